/** Abbreviations whose full stop does not end a sentence. */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'vs', 'etc', 'e.g', 'i.e', 'eg', 'ie', 'no', 'approx']);

/** Longest text sent to speech at once when no sentence ends. */
const MAX_SPOKEN_CHARS = 300;

/** An end of sentence: . ! ? or … (with closing quotes/brackets) followed by whitespace, or a line break. */
const BOUNDARY = /([.!?…]+["'”’)\]]*)\s+|\n+/g;

/**
 * Cuts streamed text into sentences as soon as each is complete, so speech for the first sentence can
 * start while the model is still writing the rest.
 */
export class SentenceSplitter {
  private buffer = '';

  /** Adds a delta; returns the sentences it completed (possibly none). */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let m = BOUNDARY.exec(this.buffer); m; m = BOUNDARY.exec(this.buffer)) {
      const end = m.index + (m[1]?.length ?? 0);
      const candidate = this.buffer.slice(start, end);
      if (m[1]?.startsWith('.') && m[1].length === 1 && endsWithAbbreviation(candidate)) continue;
      const sentence = speakable(candidate);
      if (sentence) out.push(sentence);
      start = m.index + m[0].length;
    }
    this.buffer = this.buffer.slice(start);
    // A run-on sentence would keep the listener waiting: speak it in clause-sized parts.
    while (this.buffer.length > MAX_SPOKEN_CHARS) {
      const head = this.buffer.slice(0, MAX_SPOKEN_CHARS);
      const clause = Math.max(head.lastIndexOf(', '), head.lastIndexOf('; '), head.lastIndexOf(': '));
      const space = head.lastIndexOf(' ');
      const at = clause > MAX_SPOKEN_CHARS / 3 ? clause + 1 : space > 0 ? space : MAX_SPOKEN_CHARS;
      const part = speakable(this.buffer.slice(0, at));
      if (part) out.push(part);
      this.buffer = this.buffer.slice(at).trimStart();
    }
    return out;
  }

  /** Whatever is left when the stream ends. */
  flush(): string[] {
    const rest = speakable(this.buffer);
    this.buffer = '';
    return rest ? [rest] : [];
  }
}

function endsWithAbbreviation(text: string): boolean {
  const word = /([A-Za-z.]+)\.$/.exec(text)?.[1]?.toLowerCase();
  // Initials and dotted short forms (J. Smith, p.m., U.S.) rarely end a sentence.
  return word !== undefined && (ABBREVIATIONS.has(word) || /^(?:[a-z]\.)*[a-z]$/.test(word));
}

/** Markdown marks are read aloud literally by TTS; drop them, and anything with no letters or digits. */
export function speakable(text: string): string {
  const clean = text
    .replace(/```[^`]*```/g, ' ')
    .replace(/[*_`#>|~]+/g, '')
    .replace(/^\s*[-+]\s+/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
  return /[\p{L}\p{N}]/u.test(clean) ? clean : '';
}
