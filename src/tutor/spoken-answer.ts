/** Turns one sentence into mp3 bytes (the provider's TTS). */
export type Synthesize = (sentence: string, signal: AbortSignal) => Promise<Buffer>;

/**
 * Speech requests of one answer in flight at once: enough that audio keeps ahead of the listener,
 * few enough that a long answer does not hit the provider with dozens of requests (429s).
 */
export const MAX_CONCURRENT_SPEECH = 3;

/**
 * Speech for one answer: each sentence is sent to TTS the moment it is complete (up to
 * MAX_CONCURRENT_SPEECH side by side, the rest queued in order), and the audio is emitted strictly in
 * sentence order as soon as it and all earlier ones are ready.
 */
export class SpokenAnswer {
  private count = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  // Own controller: the turn's stop aborts it, and so do cancel() (the turn failed) and a speech failure.
  private readonly controller = new AbortController();

  constructor(
    private readonly synthesize: Synthesize,
    private readonly emit: (index: number, bytes: Buffer) => void,
    signal: AbortSignal,
  ) {
    if (signal.aborted) this.controller.abort(signal.reason);
    else signal.addEventListener('abort', () => this.controller.abort(signal.reason), { once: true });
  }

  say(sentence: string): void {
    const signal = this.controller.signal;
    if (this.failure !== undefined || signal.aborted) return;
    const index = this.count++;
    const audio = this.speak(sentence);
    audio.catch(() => {}); // observed below, in order; avoid an unhandled rejection meanwhile
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        const bytes = await audio;
        if (!signal.aborted) this.emit(index, bytes);
      } catch (err) {
        this.failure = err;
        this.cancel(); // later audio is dropped, so stop paying for it
      }
    });
  }

  /** Aborts the speech requests in flight and drops the queued ones (the turn failed or ended). */
  cancel(): void {
    this.controller.abort();
  }

  /** Resolves once every sentence has been emitted; rejects with the first failure (later audio is dropped). */
  async finished(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }

  private async speak(sentence: string): Promise<Buffer> {
    const signal = this.controller.signal;
    // A free slot is taken at once; otherwise a finishing request hands its slot over in FIFO order.
    if (this.running < MAX_CONCURRENT_SPEECH) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      signal.throwIfAborted();
      return await this.synthesize(sentence, signal);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
