import { TutorError } from './tutor-error.js';

/** A spoken question, decoded and checked; the bytes live only as long as the turn (never stored). */
export interface DecodedAudio {
  bytes: Buffer;
  /** The MIME type the provider is told, e.g. audio/webm. */
  mime: string;
  /** The file extension the provider uses to recognise the format. */
  ext: string;
}

/** Accepted `data:audio/<type>` subtypes and the extension each is uploaded with (a Map: no inherited keys like "constructor"). */
const FORMATS = new Map<string, string>([
  ['wav', 'wav'],
  ['x-wav', 'wav'],
  ['wave', 'wav'],
  ['webm', 'webm'],
  ['mp3', 'mp3'],
  ['mpeg', 'mp3'],
  ['mpga', 'mp3'],
  ['m4a', 'm4a'],
  ['x-m4a', 'm4a'],
  ['mp4', 'mp4'],
  ['aac', 'm4a'],
  ['ogg', 'ogg'],
  ['opus', 'ogg'],
  ['flac', 'flac'],
  ['x-flac', 'flac'],
]);

const DATA_URL = /^data:audio\/([a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const bad = (why: string) => new TutorError('bad_audio', why);

/**
 * Decodes `data:audio/<type>;base64,...` and checks type, encoding and decoded size before anything
 * reaches the provider. Codec parameters (`;codecs=opus`) are allowed, as browsers' MediaRecorder adds them.
 */
export function decodeAudioDataUrl(url: string, maxBytes: number): DecodedAudio {
  const m = DATA_URL.exec(url);
  if (!m) {
    throw bad('audio must be a data URL like "data:audio/webm;base64,<bytes>"');
  }
  const subtype = m[1]!.toLowerCase();
  const ext = FORMATS.get(subtype);
  if (!ext) {
    throw bad(`audio/${subtype} is not supported; send wav, webm, mp3, m4a/mp4, ogg or flac`);
  }
  const payload = url.slice(m[0].length).replace(/\s+/g, '');
  // Bound the work before decoding: base64 carries 3 bytes per 4 characters.
  if (Math.floor((payload.length * 3) / 4) - 2 > maxBytes) {
    throw bad(`audio is larger than ${maxBytes} bytes`);
  }
  if (payload.length === 0 || payload.length % 4 !== 0 || !BASE64.test(payload)) {
    throw bad('audio is not valid base64');
  }
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.length > maxBytes) throw bad(`audio is larger than ${maxBytes} bytes`);
  if (bytes.length === 0) throw bad('audio is empty');
  return { bytes, mime: `audio/${subtype}`, ext };
}
