import type OpenAI from 'openai';
import { callProvider, describeProviderError, type ProviderDeadline } from '../provider-call.js';
import type { GenerationQuota } from './generation-quota.js';
import { ImageQuotaError, type GeneratedImage, type ImageFailureCode, type ImageStudio } from './image-studio.js';
import type { ImageStore } from './image-store.js';
import { downloadPicture, type DownloadedPicture } from './picture-download.js';
import { sniffPictureType } from './picture-type.js';
import { placeholderUrl } from './placeholder.js';
import { classifyProviderError, generationError } from './provider-failure.js';

/** The little of a logger the studio needs (pino fits). */
export interface StudioLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the studio reports for whoever counts it (the metrics plugin); the domain needs no metrics library. */
export interface PictureObserver {
  /** The provider failed a generation (its answer, or fetching the picture it named). */
  providerFailed(code: ImageFailureCode): void;
}

export interface StudioOptions {
  /** The SDK client (bounded timeout), or null without a key: placeholders then. */
  openai: Pick<OpenAI, 'images' | 'baseURL'> | null;
  store: ImageStore;
  quota: GenerationQuota;
  model: string;
  /** One bound per generation, retries included. */
  deadline: ProviderDeadline;
  /** Prefix of stored pictures' URLs without a trailing slash, e.g. `https://ink.example.com`; '' gives a path. */
  publicUrl: string;
  /** Bounds on fetching a `url` answer. */
  download: { timeoutMs: number; maxBytes: number };
  log: StudioLog;
  observer?: PictureObserver;
}

/** ImageStudio on the OpenAI Images API, keeping every picture's bytes in the database. */
export class OpenAIImageStudio implements ImageStudio {
  // Aborted on shutdown so a slow generation does not hold the process open.
  private readonly closing = new AbortController();

  constructor(private readonly opts: StudioOptions) {}

  async claim(userId: string): Promise<{ release(): void }> {
    const decision = await this.opts.quota.tryStart(userId);
    if (!decision.ok) {
      // A limit doing its job, not a fault: visible at debug only.
      this.opts.log.debug({ userId, code: decision.code }, 'picture refused by the quota');
      if (decision.code === 'ai_busy') {
        throw new ImageQuotaError('ai_busy', 'You already have a picture being generated; wait for it to finish before asking for another.');
      }
      const seconds = Math.max(1, Math.ceil((decision.retryAfterMs ?? 60_000) / 1000));
      throw new ImageQuotaError('rate_limited', `You have reached the limit of pictures per minute; try again in ${seconds} s.`);
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.opts.quota.finish(userId);
      },
    };
  }

  async generate(prompt: string, ctx: { userId: string; roomId: string }): Promise<GeneratedImage> {
    const { openai } = this.opts;
    if (!openai) return { imageId: null, imageUrl: placeholderUrl(prompt), placeholder: true };

    let picture: DownloadedPicture;
    try {
      picture = await this.requestPicture(openai, prompt);
    } catch (err) {
      const code = classifyProviderError(err);
      // A provider fault: warn with its code, never the prompt or the key.
      this.opts.log.warn({ err: describeProviderError(err), code, userId: ctx.userId, roomId: ctx.roomId }, 'image generation failed');
      this.opts.observer?.providerFailed(code);
      throw generationError(code, err);
    }
    let imageId: string;
    try {
      imageId = await this.opts.store.save({ ...picture, prompt, userId: ctx.userId, roomId: ctx.roomId });
    } catch (err) {
      // Our own database, not the provider: the room still hears ai_failed, the only code it has.
      this.opts.log.error({ err, userId: ctx.userId, roomId: ctx.roomId }, 'storing a generated picture failed');
      throw generationError('ai_failed', err);
    }
    return { imageId, imageUrl: `${this.opts.publicUrl}/api/v1/images/${imageId}`, placeholder: false };
  }

  /** Stops generations in flight (server shutdown); they fail with ai_failed. */
  close(): void {
    this.closing.abort();
  }

  private async requestPicture(openai: Pick<OpenAI, 'images' | 'baseURL'>, prompt: string): Promise<DownloadedPicture> {
    const signal = this.closing.signal;
    const answer = await callProvider(this.opts.deadline, signal, () => openai.images.generate({ model: this.opts.model, prompt, size: '1024x1024', n: 1 }, { signal }));
    const first = answer.data?.[0];
    if (first?.b64_json) {
      const bytes = Buffer.from(first.b64_json, 'base64');
      const contentType = sniffPictureType(bytes);
      if (!contentType) throw new Error('the b64_json answer is not a PNG, JPEG, WebP or GIF picture');
      return { bytes, contentType };
    }
    // The configured provider (OPENAI_BASE_URL) is trusted already; any other URL in its answer is checked.
    if (first?.url) return downloadPicture(first.url, this.opts.download, signal, new URL(openai.baseURL).origin);
    throw new Error('the Images API answered without b64_json or url');
  }
}
