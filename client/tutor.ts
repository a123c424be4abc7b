import { Emitter } from './emitter.js';
import type { TutorClientFrame, TutorServerFrame } from './protocol.js';
import { Connection, type ConnectionOptions, type ConnectionState } from './connection.js';

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

export interface TutorOptions extends ConnectionOptions {
  /** ws(s)://host of the server. */
  url: string;
  /** A topic id, or anything else for general English help. */
  grammarId: string | number;
}

/**
 * The tutor socket: questions (typed or recorded) become Turns in the order sent; frames of a turn
 * go to it by id; stop, feedback. Reconnects with backoff; a turn cut by a drop ends.
 */
export class TutorClient extends Emitter<{
  connection: { state: ConnectionState };
  feedback: { responseId: string; value: string };
  error: { code: string; message: string };
  sessionEnded: { reason: string };
}> {
  private readonly connection: Connection<TutorServerFrame>;
  /** Turns sent and not yet named by the server, oldest first (turns run in order). */
  private unnamed: Turn[] = [];
  private turns = new Map<string, Turn>();
  private outbox: TutorClientFrame[] = [];

  constructor(opts: TutorOptions) {
    super();
    this.connection = new Connection(opts, {
      url: (token) => `${opts.url}/chat/${encodeURIComponent(String(opts.grammarId))}/?token=${encodeURIComponent(token)}`,
      state: (state) => this.emit('connection', { state }),
      opened: () => {
        this.connection.settled();
        for (const frame of this.outbox.splice(0)) this.connection.send(frame);
      },
      frame: (frame) => this.handle(frame),
      // A turn cut by a drop ends: its answer will not come on another socket.
      dropped: () => this.endAll(),
      sessionEnded: (reason) => {
        this.close();
        this.emit('sessionEnded', { reason });
      },
    });
    this.connection.start();
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
    this.connection.stop();
    this.endAll();
  }

  private start(frame: TutorClientFrame): Turn {
    const turn = new Turn();
    this.unnamed.push(turn);
    this.send(frame);
    return turn;
  }

  private send(frame: TutorClientFrame): void {
    if (!this.connection.send(frame)) this.outbox.push(frame);
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
