import { Emitter } from './emitter.js';
import type { TutorClientFrame, TutorServerFrame } from './protocol.js';
import { backoffDelay, OPEN, parseFrame, socketFactory, type BackoffOptions, type SocketFactory, type SocketLike } from './socket.js';

export interface TurnEvents extends Record<string, unknown> {
  /** The turn's id, as soon as the server names it. */
  id: string;
  transcription: string;
  delta: string;
  /** Speech, in index order (frames arriving early wait for the ones before them). */
  audio: { audio: string; format: string; index: number };
  error: { code: string; message: string };
  completed: { text: string };
}

/** One question and its streamed answer. */
export class Turn extends Emitter<TurnEvents> {
  id: string | null = null;
  text = '';
  done = false;
  readonly finished: Promise<{ text: string }>;
  private nextAudio = 0;
  private early = new Map<number, { audio: string; format: string; index: number }>();
  private finish!: (v: { text: string }) => void;

  constructor() {
    super();
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  /** @internal */
  handle(frame: TutorServerFrame): void {
    if (this.id === null && 'id' in frame && frame.id) {
      this.id = frame.id;
      this.emit('id', frame.id);
    }
    switch (frame.type) {
      case 'transcription':
        this.emit('transcription', frame.audio_text);
        return;
      case 'delta':
        this.text += frame.message;
        this.emit('delta', frame.message);
        return;
      case 'audio':
        this.early.set(frame.index, { audio: frame.audio, format: frame.format, index: frame.index });
        for (let next = this.early.get(this.nextAudio); next; next = this.early.get(this.nextAudio)) {
          this.early.delete(this.nextAudio++);
          this.emit('audio', next);
        }
        return;
      case 'error':
        this.emit('error', { code: frame.code, message: frame.message });
        return;
      case 'completed':
        this.end();
        return;
    }
  }

  /** @internal The turn is over: completed, or its socket closed. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.emit('completed', { text: this.text });
    this.finish({ text: this.text });
  }
}

export interface TutorOptions {
  /** ws(s)://host of the server. */
  url: string;
  /** A topic id, or anything else for general English help. */
  grammarId: string | number;
  token(fresh: boolean): Promise<string>;
  WebSocket?: SocketFactory;
  backoff?: BackoffOptions;
}

/**
 * The tutor socket: questions (typed or recorded) become Turns in the order sent; frames of a turn
 * go to it by id; stop, feedback. Reconnects with backoff; a turn cut by a drop ends.
 */
export class TutorClient extends Emitter<{
  connection: { state: 'connecting' | 'open' | 'reconnecting' | 'closed' };
  feedback: { responseId: string; value: string };
  error: { code: string; message: string };
  sessionEnded: { reason: string };
}> {
  private socket: SocketLike | null = null;
  private readonly Socket: SocketFactory;
  /** Turns sent and not yet named by the server, oldest first (turns run in order). */
  private unnamed: Turn[] = [];
  private turns = new Map<string, Turn>();
  private outbox: string[] = [];
  private attempt = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly opts: TutorOptions) {
    super();
    this.Socket = socketFactory(opts.WebSocket);
    void this.open(false);
  }

  ask(question: string, speak = false): Turn {
    return this.start({ data: question, ...(speak ? { speak } : {}) });
  }

  /** A spoken question as a `data:audio/…;base64,` URL (what MediaRecorder gives, read as a data URL). */
  askAudio(dataUrl: string, speak = false): Turn {
    return this.start({ audio: dataUrl, ...(speak ? { speak } : {}) });
  }

  stop(): void {
    this.send({ command: 'stop' });
  }

  feedback(responseId: string, value: 'thumb-up' | 'thumb-down'): void {
    this.send({ command: value, responseId });
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'client closed');
    this.socket = null;
    this.endAll();
    this.emit('connection', { state: 'closed' });
  }

  private start(frame: TutorClientFrame): Turn {
    const turn = new Turn();
    this.unnamed.push(turn);
    this.send(frame);
    return turn;
  }

  private send(frame: TutorClientFrame): void {
    const text = JSON.stringify(frame);
    if (this.socket?.readyState === OPEN) this.socket.send(text);
    else this.outbox.push(text);
  }

  private async open(fresh: boolean): Promise<void> {
    this.emit('connection', { state: this.attempt === 0 ? 'connecting' : 'reconnecting' });
    let token: string;
    try {
      token = await this.opts.token(fresh);
    } catch {
      this.close();
      this.emit('sessionEnded', { reason: 'Your session has ended; sign in again.' });
      return;
    }
    if (this.stopped) return;
    const socket = new this.Socket(`${this.opts.url}/chat/${encodeURIComponent(String(this.opts.grammarId))}/?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.emit('connection', { state: 'open' });
      for (const text of this.outbox.splice(0)) socket.send(text);
    };
    socket.onmessage = (ev) => {
      const frame = parseFrame<TutorServerFrame>(ev.data);
      if (frame) this.handle(frame);
    };
    socket.onerror = () => undefined;
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.endAll();
      if (this.stopped) return;
      if (ev.code === 4001 && (fresh || ev.reason === 'session ended')) {
        this.close();
        this.emit('sessionEnded', { reason: 'Your session has ended; sign in again.' });
        return;
      }
      this.emit('connection', { state: 'reconnecting' });
      const delay = ev.code === 4001 ? 0 : backoffDelay(this.attempt++, this.opts.backoff);
      this.timer = setTimeout(() => void this.open(ev.code === 4001), delay);
    };
  }

  private handle(frame: TutorServerFrame): void {
    if (frame.type === 'pong') return;
    if (frame.type === 'feedback') {
      this.emit('feedback', { responseId: frame.responseId, value: frame.value });
      return;
    }
    const id = 'id' in frame ? frame.id : undefined;
    if (!id) {
      if (frame.type === 'error') this.emit('error', { code: frame.code, message: frame.message });
      return;
    }
    let turn = this.turns.get(id);
    if (!turn) {
      turn = this.unnamed.shift();
      if (!turn) return;
      this.turns.set(id, turn);
    }
    turn.handle(frame);
    if (turn.done) this.turns.delete(id);
  }

  private endAll(): void {
    for (const turn of [...this.unnamed, ...this.turns.values()]) turn.end();
    this.unnamed = [];
    this.turns.clear();
  }
}
