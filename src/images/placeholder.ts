import { createHash } from 'node:crypto';

/** Without an OpenAI key the same prompt always gives the same Picsum picture, so a redraw looks the same. */
export function placeholderUrl(prompt: string): string {
  const seed = createHash('sha256').update(prompt.trim(), 'utf8').digest('hex').slice(0, 16);
  return `https://picsum.photos/seed/${seed}/512/512`;
}
