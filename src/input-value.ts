/*
 * One check for every value a client sends, on both sockets and every REST route: text must be
 * well-formed Unicode without NUL (PostgreSQL refuses 0x00, and a lone surrogate would be stored as
 * U+FFFD and collide with another), and numbers must be finite (JSON's 1e400 parses to Infinity).
 */

// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const BAD_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(text: string): string | undefined {
  const bad = BAD_TEXT.exec(text);
  if (!bad) return undefined;
  return bad[0] === '\u0000' ? 'must not contain NUL characters' : 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)';
}

/**
 * The first problem in a parsed value, as a sentence naming the field (`points[2].x`, with `prefix`
 * before it), or undefined when every string, key and number in it may be stored.
 */
export function inputProblem(value: unknown, prefix = ''): string | undefined {
  // Iterative, so a deeply nested frame cannot overflow the stack.
  const stack: Array<[unknown, string]> = [[value, prefix]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    const field = path || 'the message';
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return `Field "${field}" ${problem}.`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `Field "${field}" must be a finite number.`;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, inner] of Object.entries(v)) {
        const problem = textProblem(key);
        if (problem) return `A field name in "${field}" ${problem}.`;
        stack.push([inner, path ? `${path}.${key}` : key]);
      }
    }
  }
  return undefined;
}
