import { lookup } from 'node:dns/promises';
import { generationError } from './provider-failure.js';
import { isPublicAddress } from './public-address.js';
import { sniffPictureType, type PictureType } from './picture-type.js';

export interface DownloadLimits {
  timeoutMs: number;
  maxBytes: number;
}

/** Redirects followed at most; each hop is checked like the first URL. */
const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface DownloadedPicture {
  bytes: Buffer;
  contentType: PictureType;
}

/**
 * Fetches the picture behind a provider URL (they expire after an hour, so we keep the bytes):
 * bounded in time and size, and only when it is really a picture. The URL comes from the provider's
 * (or a proxy's) answer, so it must not make the server fetch its own network and serve the bytes
 * publicly: a URL on `trustedOrigin` (the configured provider's own origin) is taken as is, any other
 * must be https to a host that resolves only to public addresses, redirects included.
 */
export async function downloadPicture(url: string, limits: DownloadLimits, signal?: AbortSignal, trustedOrigin?: string): Promise<DownloadedPicture> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw generationError('ai_failed', err);
  }

  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const abort = signal ? AbortSignal.any([deadline, signal]) : deadline;
  try {
    let current = parsed;
    let res = await fetchChecked(current, abort, trustedOrigin);
    for (let hop = 0; REDIRECT_STATUSES.has(res.status); hop++) {
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => {});
      if (!location) throw new Error(`picture download answered ${res.status} without a Location`);
      if (hop === MAX_REDIRECTS) throw new Error(`picture download redirected more than ${MAX_REDIRECTS} times`);
      current = new URL(location, current);
      res = await fetchChecked(current, abort, trustedOrigin);
    }
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

/** One request, without following redirects, after checking that the target may be fetched at all. */
async function fetchChecked(url: URL, signal: AbortSignal, trustedOrigin: string | undefined): Promise<Response> {
  if (url.origin !== trustedOrigin) {
    if (url.protocol !== 'https:') throw new Error(`picture URL scheme ${url.protocol} off the provider's origin`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = await lookup(host, { all: true, verbatim: true });
    if (addresses.length === 0 || !addresses.every((a) => isPublicAddress(a.address))) {
      throw new Error(`picture host ${host} is not on the public internet`);
    }
  }
  return fetch(url, { signal, redirect: 'manual' });
}
