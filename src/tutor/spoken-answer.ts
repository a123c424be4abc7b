/** Turns one sentence into mp3 bytes (the provider's TTS). */
export type Synthesize = (sentence: string, signal: AbortSignal) => Promise<Buffer>;

/**
 * Speech for one answer: each sentence is sent to TTS the moment it is complete (they run side by
 * side), and the audio is emitted strictly in sentence order as soon as it and all earlier ones are ready.
 */
export class SpokenAnswer {
  private count = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;

  constructor(
    private readonly synthesize: Synthesize,
    private readonly emit: (index: number, bytes: Buffer) => void,
    private readonly signal: AbortSignal,
  ) {}

  say(sentence: string): void {
    if (this.failure !== undefined || this.signal.aborted) return;
    const index = this.count++;
    const audio = this.synthesize(sentence, this.signal);
    audio.catch(() => {}); // observed below, in order; avoid an unhandled rejection meanwhile
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        const bytes = await audio;
        if (!this.signal.aborted) this.emit(index, bytes);
      } catch (err) {
        this.failure = err;
      }
    });
  }

  /** Resolves once every sentence has been emitted; rejects with the first failure (later audio is dropped). */
  async finished(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}
