import type { Test } from 'tap';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { login, type Session } from '../helpers/http.js';
import { startServer, type TestServer, type TestServerOptions } from '../helpers/server.js';
import { openSocket, type TestSocket } from '../helpers/ws-client.js';
import { tutorFrame } from '../../src/tutor/protocol.js';

export interface TutorWorld {
  server: TestServer;
  fake: FakeOpenAI;
}

/** The real app pointed at the fake OpenAI server through the real SDK; failures are not retried. */
export async function startTutor(t: Test, opts: TestServerOptions = {}): Promise<TutorWorld> {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const server = await startServer(t, {
    ...opts,
    env: {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MAX_RETRIES: 0,
      OPENAI_TIMEOUT: '2s',
      TUTOR_QUESTIONS_PER_MINUTE: 1000,
      ...opts.env,
    },
  });
  return { server, fake };
}

export function chatUrl(server: TestServer, grammarId: string | number, token: string): string {
  return `${server.wsUrl}/chat/${grammarId}/?token=${encodeURIComponent(token)}`;
}

export async function openChat(server: TestServer, grammarId: string | number, session: Session): Promise<TestSocket> {
  return openSocket(chatUrl(server, grammarId, session.access));
}

/** Every frame of the next turn, up to and including its `completed.` (frames of that id only). */
export async function turnFrames(socket: TestSocket, id?: string, timeoutMs = 5000): Promise<any[]> {
  const first = id ? null : await socket.next((m) => typeof m?.id === 'string', timeoutMs);
  const turnId: string = id ?? first.id;
  const frames = first ? [first] : [];
  while (frames.at(-1)?.message !== 'completed.') {
    frames.push(await socket.next((m) => m?.id === turnId, timeoutMs));
  }
  // Every frame a client sees matches the protocol module's schema.
  const stray = frames.find((f) => !tutorFrame.Check(f));
  if (stray) throw new Error(`frame outside the tutor protocol: ${JSON.stringify(stray).slice(0, 200)}`);
  return frames;
}

let n = 0;
/** A fresh user per call, so tests do not share histories or rate limits. */
export function newUser(server: TestServer, prefix = 'learner'): Promise<Session> {
  return login(server, `${prefix}${++n}-${process.pid}@example.com`);
}

/** A short wait used only to show that something did NOT arrive. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
