import type { TestServer } from '../helpers/server.js';
import { login, type Session } from '../helpers/http.js';

/**
 * A logged-in user with a room of their own, the context an `ai_generate_image` runs in. The room
 * row is written directly: the image tests are about pictures, not about creating rooms.
 */
export async function userWithRoom(server: TestServer, email: string): Promise<{ session: Session; roomId: string }> {
  const session = await login(server, email);
  const roomId = `room-${Math.random().toString(36).slice(2, 12)}`;
  await server.app.db
    .insertInto('rooms')
    .values({ id: roomId, slug: null, admin_id: session.user.id, created_at: new Date() })
    .execute();
  return { session, roomId };
}

/** The raw answer of GET <path>, bytes included, as a browser's `<img>` would fetch it. */
export async function fetchBytes(server: Pick<TestServer, 'url'>, path: string, headers: Record<string, string> = {}) {
  const url = path.startsWith('http') ? path : server.url + path;
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
