import { Type, type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * Every environment variable the server reads, with its default. `.env.example` documents the
 * same list for operators; loadConfig validates the environment against it once, at start, and
 * src/settings.ts turns the result into the typed settings each capability uses.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ default: 'localhost' }),
  PORT: Type.Integer({ default: 9080, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  PUBLIC_URL: Type.String({ default: '' }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  CORS_ORIGINS: Type.String({ default: '' }),

  DATABASE_URL: Type.String({ default: '' }),
  PGLITE_DIR: Type.String({ default: './data/pglite' }),
  /** How long connecting to PostgreSQL or one query may take before it counts as failed. */
  DATABASE_TIMEOUT: Type.String({ default: '10s' }),

  JWT_SECRET: Type.String({ default: '' }),
  ACCESS_TOKEN_TTL: Type.String({ default: '3d' }),
  REFRESH_TOKEN_TTL: Type.String({ default: '10d' }),

  OTP_TTL: Type.String({ default: '5m' }),
  OTP_MAX_ATTEMPTS: Type.Integer({ default: 5, minimum: 1 }),
  OTP_COOLDOWN: Type.String({ default: '60s' }),
  OTP_PER_ADDRESS_HOURLY: Type.Integer({ default: 5, minimum: 1 }),
  OTP_GENERATE_PER_IP_HOURLY: Type.Integer({ default: 30, minimum: 1 }),
  OTP_VERIFY_PER_IP: Type.Integer({ default: 30, minimum: 1 }),
  OTP_VERIFY_WINDOW: Type.String({ default: '5m' }),
  API_RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 300, minimum: 1 }),

  MAIL_TRANSPORT: Type.String({ default: '' }),
  SMTP_URL: Type.String({ default: '' }),
  MAIL_FROM: Type.String({ default: 'Inkwell <no-reply@localhost>' }),

  OPENAI_API_KEY: Type.String({ default: '' }),
  OPENAI_BASE_URL: Type.String({ default: '' }),
  OPENAI_CHAT_MODEL: Type.String({ default: 'gpt-4.1-mini' }),
  OPENAI_IMAGE_MODEL: Type.String({ default: 'gpt-image-1' }),
  OPENAI_TRANSCRIBE_MODEL: Type.String({ default: 'gpt-4o-mini-transcribe' }),
  OPENAI_TTS_MODEL: Type.String({ default: 'gpt-4o-mini-tts' }),
  OPENAI_TTS_VOICE: Type.String({ default: 'alloy' }),
  OPENAI_TIMEOUT: Type.String({ default: '60s' }),
  OPENAI_MAX_RETRIES: Type.Integer({ default: 2, minimum: 0, maximum: 5 }),

  WS_MAX_PAYLOAD: Type.Integer({ default: 524288, minimum: 1024 }),
  WS_SEND_BUFFER_LIMIT: Type.Integer({ default: 16 * 1024 * 1024, minimum: 1024 }),
  WS_HEARTBEAT_INTERVAL: Type.String({ default: '30s' }),
  WS_RATE_BURST: Type.Integer({ default: 200, minimum: 1 }),
  WS_RATE_PER_SECOND: Type.Integer({ default: 100, minimum: 1 }),
  WS_CONNECTIONS_PER_IP_PER_MINUTE: Type.Integer({ default: 30, minimum: 1 }),
  ROOM_MAX_DRAWINGS: Type.Integer({ default: 20000, minimum: 1 }),
  /** Each room's event log (resume, gap filling) keeps at least its last this many events… */
  ROOM_EVENT_LOG_EVENTS: Type.Integer({ default: 10000, minimum: 1, maximum: 1_000_000 }),
  /** …and at least the events of this long; what is older than both is pruned. */
  ROOM_EVENT_LOG_AGE: Type.String({ default: '7d' }),
  AI_IMAGES_PER_MINUTE: Type.Integer({ default: 5, minimum: 1 }),
  AI_IMAGE_DOWNLOAD_TIMEOUT: Type.String({ default: '30s' }),
  AI_IMAGE_MAX_BYTES: Type.Integer({ default: 20 * 1024 * 1024, minimum: 1024 }),

  TUTOR_QUESTIONS_PER_MINUTE: Type.Integer({ default: 20, minimum: 1 }),
  TUTOR_QUEUE_LIMIT: Type.Integer({ default: 4, minimum: 0 }),
  TUTOR_AUDIO_MAX_BYTES: Type.Integer({ default: 8 * 1024 * 1024, minimum: 1024 }),
  TUTOR_HISTORY_MESSAGES: Type.Integer({ default: 20, minimum: 0 }),

  REDIS_URL: Type.String({ default: '' }),
  /** Put before every Redis key and channel, so that several deployments (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: Type.String({ default: 'inkwell:' }),

  /** GET /metrics (Prometheus text) is served only when true; METRICS_TOKEN, when set, is its bearer token. */
  METRICS: Type.Boolean({ default: false }),
  METRICS_TOKEN: Type.String({ default: '' }),
});

export type Config = Static<typeof ConfigSchema>;

export type MailTransport = 'log' | 'smtp';

export function isProduction(config: Config): boolean {
  return config.NODE_ENV === 'production';
}

/** `log` outside production, `smtp` in production, unless MAIL_TRANSPORT says otherwise. */
export function mailTransportOf(config: Config): MailTransport {
  if (config.MAIL_TRANSPORT === 'log' || config.MAIL_TRANSPORT === 'smtp') return config.MAIL_TRANSPORT;
  if (config.MAIL_TRANSPORT !== '') throw new ConfigError(`MAIL_TRANSPORT must be "log" or "smtp", not "${config.MAIL_TRANSPORT}"`);
  return isProduction(config) ? 'smtp' : 'log';
}

/** Fastify's `trustProxy`: off, on, a hop count, or a comma-separated list of addresses/CIDRs. */
export function trustProxyOf(config: Config): boolean | number | string[] {
  const v = config.TRUST_PROXY.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0' || v === 'off') return false;
  if (v === 'true' || v === 'on') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Origins allowed to call the API from a browser (none by default: the app at / is same-origin). */
export function corsOriginsOf(config: Config): string[] {
  return config.CORS_ORIGINS.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch {
        // reported below
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
        throw new ConfigError(`CORS_ORIGINS must be a comma-separated list of origins like https://app.example.com (got "${origin}")`);
      }
      return parsed.origin;
    });
}

/** A start-up refusal: the server must not run with this configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `60s`, `5m`, `3h`, `10d`; a bare number is refused (seconds or milliseconds?). */
export function durationMs(value: string, name = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!m) throw new ConfigError(`${name} must be a duration with a unit like 500ms, 60s, 5m, 3d (got "${value}")`);
  const n = Number(m[1]) * UNITS[m[2]!]!;
  if (!(n > 0)) throw new ConfigError(`${name} must be greater than zero (got "${value}")`);
  return n;
}

/**
 * Builds the typed configuration from raw string sources (later ones win): defaults applied,
 * numbers converted, unknown variables dropped, then checked against the schema.
 */
export function loadConfig(...sources: Array<Record<string, unknown> | undefined>): Config {
  const merged: Record<string, unknown> = {};
  for (const source of sources) {
    for (const [key, value] of Object.entries(source ?? {})) {
      // Own keys only: an environment variable named constructor or __proto__ is not a setting.
      if (value !== undefined && Object.hasOwn(ConfigSchema.properties, key)) merged[key] = value;
    }
  }
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, merged)) as Record<string, unknown>;
  const problems = new Map<string, string>();
  for (const error of Value.Errors(ConfigSchema, value)) {
    const name = error.instancePath.replace(/^\//, '') || 'configuration';
    if (!problems.has(name)) problems.set(name, `${name} ${describeError(name, error.message)} (got ${JSON.stringify(value[name])})`);
  }
  if (problems.size) throw new ConfigError([...problems.values()].join('; '));
  return value as Config;
}

/** A schema error in an operator's words: the allowed values of a choice rather than "must match a schema in anyOf". */
function describeError(name: string, message: string): string {
  const schema = (ConfigSchema.properties as Record<string, { anyOf?: Array<{ const?: unknown }> }>)[name];
  if (schema?.anyOf) return `must be one of ${schema.anyOf.map((s) => s.const).join(', ')}`;
  return message;
}
