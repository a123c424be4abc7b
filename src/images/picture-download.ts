import { generationError } from './provider-failure.js';
import { sniffPictureType, type PictureType } from './picture-type.js';

export interface DownloadLimits {
  timeoutMs: number;
  maxBytes: number;
}

export interface DownloadedPicture {
  bytes: Buffer;
  contentType: PictureType;
}

/**
 * Fetches the picture behind a provider URL (they expire after an hour, so we keep the bytes):
 * bounded in time and size, and only when it is really a picture.
 */
export async function downloadPicture(url: string, limits: DownloadLimits, signal?: AbortSignal): Promise<DownloadedPicture> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw generationError('ai_failed', err);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw generationError('ai_failed', new Error(`picture URL scheme ${parsed.protocol}`));

  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const abort = signal ? AbortSignal.any([deadline, signal]) : deadline;
  try {
    const res = await fetch(parsed, { signal: abort, redirect: 'follow' });
    const declared = (res.headers.get('content-type') ?? '').toLowerCase();
    const length = Number(res.headers.get('content-length') ?? '0');
    const refusal = !res.ok
      ? `picture download answered ${res.status}`
      : !declared.startsWith('image/')
        ? `picture download has content-type "${declared}"`
        : length > limits.maxBytes
          ? `picture of ${length} bytes is over the ${limits.maxBytes}-byte limit`
          : null;
    if (refusal || !res.body) {
      // Free the connection now rather than when the unread body is collected.
      await res.body?.cancel().catch(() => {});
      throw new Error(refusal ?? 'picture download has no body');
    }

    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > limits.maxBytes) {
        await res.body.cancel().catch(() => {});
        throw new Error(`picture is over the ${limits.maxBytes}-byte limit`);
      }
      chunks.push(Buffer.from(chunk));
    }
    const bytes = Buffer.concat(chunks);
    const contentType = sniffPictureType(bytes);
    if (!contentType) throw new Error(`downloaded bytes are not a PNG, JPEG, WebP or GIF picture (declared "${declared}")`);
    return { bytes, contentType };
  } catch (err) {
    if (deadline.aborted) throw generationError('ai_timeout', err);
    throw generationError('ai_failed', err);
  }
}
