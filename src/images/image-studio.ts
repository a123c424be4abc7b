import { DomainError } from '../errors.js';

/**
 * The whiteboard's AI picture maker: the room calls claim() before announcing a
 * generation, then generate(), and releases the claim when the generation has finished either way.
 */

/** Why a generation failed, as the room tells its members (`ai_message` with `error:true`). */
export type ImageFailureCode = 'moderation_blocked' | 'ai_timeout' | 'ai_rate_limited' | 'ai_failed';

/** A failed generation; `message` is a sentence a person can read (never provider internals). */
export class ImageGenerationError extends DomainError<ImageFailureCode> {
  override name = 'ImageGenerationError';
  constructor(code: ImageFailureCode, message: string, cause?: unknown) {
    super(code, message, undefined, cause);
  }
}

/** The user may not start a generation now: one is already running, or the minute's quota is spent. */
export class ImageQuotaError extends DomainError<'ai_busy' | 'rate_limited'> {
  override name = 'ImageQuotaError';
}

export interface GeneratedImage {
  /** The stored picture's id; null for a placeholder (nothing stored). */
  imageId: string | null;
  /** `/api/v1/images/<id>` (absolute when PUBLIC_URL is set) or the placeholder's URL. */
  imageUrl: string;
  placeholder: boolean;
}

export interface ImageStudio {
  /** Claims the user's generation slot (1 in flight, AI_IMAGES_PER_MINUTE per minute); throws ImageQuotaError. Call release() when the generation has finished either way. */
  claim(userId: string): Promise<{ release(): void }>;
  /** Generates and stores the picture (or a placeholder URL without a key); throws ImageGenerationError. */
  generate(prompt: string, ctx: { userId: string; roomId: string }): Promise<GeneratedImage>;
}
