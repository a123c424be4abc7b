import tap from 'tap';
import { isServerMessage } from '../../src/whiteboard/protocol.js';
import { login, request, type Session } from '../helpers/http.js';
import type { TestServer } from '../helpers/server.js';
import { openSocket, type TestSocket } from '../helpers/ws-client.js';

/** Creates a room as this user (the room's admin). */
export async function createRoom(server: TestServer, session: Session, slug?: string): Promise<string> {
  const res = await request(server, 'POST', '/api/v1/rooms/', { token: session.access, body: slug ? { slug } : {} });
  if (res.status !== 201) throw new Error(`create room ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.roomId;
}

let counter = 0;
/** A fresh user (unique address per call). */
export function newUser(server: TestServer, name = 'user'): Promise<Session> {
  counter += 1;
  return login(server, `${name}${counter}-${process.pid}@example.com`);
}

/** A whiteboard socket; any frame the protocol module does not describe fails the test file. */
export async function connect(server: TestServer, session: Session): Promise<TestSocket> {
  const sock = await openSocket(`${server.wsUrl}/ws?token=${encodeURIComponent(session.access)}`);
  sock.ws.on('message', (data, isBinary) => {
    let msg: unknown;
    try {
      msg = isBinary ? data : JSON.parse(data.toString());
    } catch {
      msg = data.toString();
    }
    if (!isServerMessage(msg)) tap.fail(`a frame outside the whiteboard protocol: ${JSON.stringify(msg).slice(0, 300)}`);
  });
  return sock;
}

/** Reads every room_state frame of one join until `complete:true`. */
export async function roomState(sock: TestSocket, roomId: string): Promise<{ frames: any[]; drawings: any[]; seq: number; members: any[] }> {
  const frames: any[] = [];
  for (;;) {
    const f = await sock.next((m) => m.type === 'room_state' && m.roomId === roomId);
    frames.push(f);
    if (f.complete) break;
  }
  const last = frames[frames.length - 1];
  return { frames, drawings: frames.flatMap((f) => f.drawings), seq: last.seq, members: last.members };
}

/** Connects, joins and reads the whole room state. */
export async function joined(server: TestServer, session: Session, roomId: string) {
  const sock = await connect(server, session);
  sock.send({ type: 'join_room', roomId });
  const state = await roomState(sock, roomId);
  return { sock, state };
}

/** Proves a frame did NOT arrive: a short fixed wait, then a look at what is unread. */
export async function nothingMore(sock: TestSocket, match: (m: any) => boolean, ms = 150): Promise<any[]> {
  await new Promise((r) => setTimeout(r, ms));
  return sock.drain(match);
}

export const line = (roomId: string, extra: Record<string, unknown> = {}) => ({
  type: 'draw',
  roomId,
  shapeType: 'line',
  points: [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ],
  color: '#ff0000',
  strokeWidth: 3,
  ...extra,
});

/**
 * Sends a resume join and reads the answer: every room_events frame until `complete:true`, or the
 * room_state frames of a resync. `events` are the replayed frames in the order they came.
 */
export async function resume(sock: TestSocket, roomId: string, sinceSeq: number, extra: Record<string, unknown> = {}) {
  sock.send({ type: 'join_room', roomId, sinceSeq, ...extra });
  const first = await sock.next((m) => (m.type === 'room_events' || m.type === 'room_state' || m.type === 'error') && m.roomId === roomId, 20_000);
  if (first.type === 'error') return { kind: 'error' as const, error: first, frames: [first], events: [] as any[], state: undefined };
  if (first.type === 'room_state') {
    const frames = [first];
    while (!frames[frames.length - 1].complete) frames.push(await sock.next((m) => m.type === 'room_state' && m.roomId === roomId, 20_000));
    return { kind: 'room_state' as const, frames, events: [] as any[], state: { drawings: frames.flatMap((f) => f.drawings), seq: first.seq, resync: first.resync } };
  }
  const frames = [first];
  while (!frames[frames.length - 1].complete) frames.push(await sock.next((m) => m.type === 'room_events' && m.roomId === roomId, 20_000));
  return { kind: 'room_events' as const, frames, events: frames.flatMap((f) => f.events), state: undefined };
}

export const ordered = (m: any) => ['draw', 'delete_drawing', 'clear_canvas'].includes(m.type) || (m.type === 'ai_message' && !m.error);
