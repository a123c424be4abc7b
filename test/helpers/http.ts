import type { TestServer } from './server.js';

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request over real HTTP, as a client makes it. */
export async function request<T = any>(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(server.url + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: any = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body };
}

export interface Session {
  user: { id: string; email: string; name: string };
  access: string;
  refresh: string;
}

/** Reads the code the `log` mail transport wrote for this address (the newest one). */
export async function codeFromLog(server: TestServer, email: string, after = 0): Promise<string> {
  const pattern = new RegExp(`OTP for ${email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (\\d{6})`);
  for (let i = 0; i < 100; i++) {
    const matches = server.logs.raw
      .slice(after)
      .map((l) => pattern.exec(l))
      .filter(Boolean);
    const last = matches[matches.length - 1];
    if (last) return last[1]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no OTP logged for ${email}`);
}

/** The whole login flow a client goes through: ask for a code, read it from the mail log, verify. */
export async function login(server: TestServer, email: string): Promise<Session> {
  const mark = server.logs.raw.length;
  const gen = await request(server, 'POST', '/api/v1/auth/generate-otp/', { body: { email } });
  if (gen.status !== 200) throw new Error(`generate-otp ${gen.status}: ${JSON.stringify(gen.body)}`);
  const code = await codeFromLog(server, email.trim().toLowerCase(), mark);
  const res = await request(server, 'POST', '/api/v1/auth/verify-otp/', { body: { email, otp_code: code } });
  if (res.status !== 200) throw new Error(`verify-otp ${res.status}: ${JSON.stringify(res.body)}`);
  return { user: res.body.user, access: res.body.tokens.access, refresh: res.body.tokens.refresh };
}
