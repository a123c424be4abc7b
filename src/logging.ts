const SECRET_PARAMS = new Set(['token', 'access_token', 'refresh', 'refresh_token', 'otp_code', 'code']);

/**
 * A URL with every token-like query parameter replaced, for logs. Keys are compared decoded, the
 * way the query parser reads them, so `?%74oken=` is redacted as surely as `?token=`.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = [...new URLSearchParams(url.slice(q + 1))];
  if (!params.some(([key]) => SECRET_PARAMS.has(key.toLowerCase()))) return url;
  const query = params.map(([key, value]) => `${encodeURIComponent(key)}=${SECRET_PARAMS.has(key.toLowerCase()) ? '[redacted]' : encodeURIComponent(value)}`).join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** Paths pino blanks in every log line: credentials never reach the log. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'body.refresh',
  'body.otp_code',
  'body.tokens',
  'tokens',
  'refresh',
  'token',
];

/** The parts of an incoming request the log shows (Fastify's request has them). */
export interface LoggedRequest {
  method: string;
  url: string;
  host: string;
  ip: string;
}

export const logSerializers = {
  req(req: LoggedRequest) {
    return {
      method: req.method,
      url: redactUrl(req.url),
      host: req.host,
      remoteAddress: req.ip,
    };
  },
};
