/** Turns a compiled validator's errors into one sentence a client's developer can act on. */

interface SchemaError {
  keyword: string;
  instancePath: string;
  // biome-ignore lint/suspicious/noExplicitAny: the validator's params differ per keyword
  params: Record<string, any>;
  message: string;
}

/** `/points/3/x` → `points[3].x` */
function fieldName(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

const PATTERN_HINTS: Record<string, string> = {
  color: 'must be a colour written as "#rrggbb", for example "#1a2b3c"',
  imageUrl: 'must start with https://, http:// or /api/v1/images/ (no javascript: or data: addresses)',
};

/** One sentence a developer can act on: which field, and why. */
export function describeErrors(errors: SchemaError[]): string {
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (!first) return 'The message does not match its schema.';
  const field = fieldName(first.instancePath);
  const last = first.instancePath.split('/').pop() ?? '';
  const p = first.params;
  const name = (f: string) => `Field "${f}"`;
  switch (first.keyword) {
    case 'required': {
      const missing = (p.requiredProperties as string[] | undefined)?.join('", "') ?? '?';
      return `${name(field ? `${field}.${missing}` : missing)} is required.`;
    }
    case 'type':
      return `${name(field)} must be a ${p.type}${p.type === 'number' ? ' (finite)' : ''}.`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${name(field)} must be ${p.comparison ?? (first.keyword === 'minimum' ? '>=' : '<=')} ${p.limit}${Math.abs(Number(p.limit)) === 1e6 ? ' (coordinates and sizes are limited to ±1,000,000)' : ''}.`;
    case 'minLength':
      return `${name(field)} must be at least ${p.limit} character${p.limit === 1 ? '' : 's'} long.`;
    case 'maxLength':
      return `${name(field)} must be at most ${p.limit} characters long.`;
    case 'maxItems':
      return `${name(field)} must have at most ${p.limit} items.`;
    case 'pattern':
      return `${name(field)} ${PATTERN_HINTS[last] ?? 'has the wrong format'}.`;
    case 'enum':
      return `${name(field)} must be one of ${(p.allowedValues as unknown[]).join(', ')}.`;
    case 'const':
    case 'anyOf': {
      const allowed = errors.filter((e) => e.instancePath === first.instancePath && e.keyword === 'const').map((e) => e.params.allowedValue);
      return allowed.length ? `${name(field)} must be one of ${allowed.join(', ')}.` : `${name(field)} ${first.message}.`;
    }
    default:
      return `${name(field || 'message')} ${first.message}.`;
  }
}
