import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TINY_PNG } from '../helpers/fake-openai.js';
import type { TestServer } from '../helpers/server.js';
import { login, type Session } from '../helpers/http.js';

/**
 * A logged-in user with a room of their own, the context an `ai_generate_image` runs in. The room
 * row is written directly: the image tests are about pictures, not about creating rooms.
 */
export async function userWithRoom(server: TestServer, email: string): Promise<{ session: Session; roomId: string }> {
  const session = await login(server, email);
  const roomId = `room-${Math.random().toString(36).slice(2, 12)}`;
  await server.app.db.insertInto('rooms').values({ id: roomId, slug: null, admin_id: session.user.id, created_at: new Date() }).execute();
  return { session, roomId };
}

/** The raw answer of GET <path>, bytes included, as a browser's `<img>` would fetch it. */
export async function fetchBytes(server: Pick<TestServer, 'url'>, path: string, headers: Record<string, string> = {}) {
  const url = path.startsWith('http') ? path : server.url + path;
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/**
 * A loopback HTTP server standing for the server's own network (an admin port, cloud metadata): it
 * answers every request with a PNG and counts them, so a test can prove it was never fetched.
 */
export async function startInternalServer(): Promise<{ url: string; hits(): number; close(): Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(TINY_PNG.length) });
    res.end(TINY_PNG);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
