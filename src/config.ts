import { Type, type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * Every environment variable the server reads, with its default. `.env.example` documents the
 * same list for operators; plugins/env.ts validates the environment against this schema.
 */
export const ConfigSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  HOST: Type.String({ default: 'localhost' }),
  PORT: Type.Integer({ default: 9080, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
  PUBLIC_URL: Type.String({ default: '' }),
  TRUST_PROXY: Type.String({ default: 'false' }),

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
  AI_IMAGES_PER_MINUTE: Type.Integer({ default: 5, minimum: 1 }),
  /** Under sustained drawing load, the least time between two write transactions (group commit). */
  WS_COMMIT_INTERVAL: Type.String({ default: '5ms' }),
  AI_IMAGE_DOWNLOAD_TIMEOUT: Type.String({ default: '30s' }),
  AI_IMAGE_MAX_BYTES: Type.Integer({ default: 20 * 1024 * 1024, minimum: 1024 }),

  TUTOR_QUESTIONS_PER_MINUTE: Type.Integer({ default: 20, minimum: 1 }),
  TUTOR_QUEUE_LIMIT: Type.Integer({ default: 4, minimum: 0 }),
  TUTOR_AUDIO_MAX_BYTES: Type.Integer({ default: 8 * 1024 * 1024, minimum: 1024 }),
  TUTOR_HISTORY_MESSAGES: Type.Integer({ default: 20, minimum: 0 }),

  REDIS_URL: Type.String({ default: '' }),
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
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A start-up refusal: the server must not run with this configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Refusals that apply before anything starts (production safety). */
export function assertStartable(config: Config): void {
  durationMs(config.ACCESS_TOKEN_TTL, 'ACCESS_TOKEN_TTL');
  durationMs(config.REFRESH_TOKEN_TTL, 'REFRESH_TOKEN_TTL');
  durationMs(config.OTP_TTL, 'OTP_TTL');
  durationMs(config.OTP_COOLDOWN, 'OTP_COOLDOWN');
  durationMs(config.OTP_VERIFY_WINDOW, 'OTP_VERIFY_WINDOW');
  durationMs(config.OPENAI_TIMEOUT, 'OPENAI_TIMEOUT');
  durationMs(config.DATABASE_TIMEOUT, 'DATABASE_TIMEOUT');
  durationMs(config.WS_HEARTBEAT_INTERVAL, 'WS_HEARTBEAT_INTERVAL');
  durationMs(config.WS_COMMIT_INTERVAL, 'WS_COMMIT_INTERVAL');
  durationMs(config.AI_IMAGE_DOWNLOAD_TIMEOUT, 'AI_IMAGE_DOWNLOAD_TIMEOUT');
  const transport = mailTransportOf(config);
  if (transport === 'smtp' && config.SMTP_URL === '') {
    throw new ConfigError('MAIL_TRANSPORT is smtp but SMTP_URL is not set');
  }
  if (!isProduction(config)) return;
  if (config.JWT_SECRET.length < 32) {
    throw new ConfigError('JWT_SECRET must be set to at least 32 characters when NODE_ENV=production');
  }
  if (transport === 'log') {
    throw new ConfigError('MAIL_TRANSPORT=log would write login codes to the log; use smtp when NODE_ENV=production');
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `60s`, `5m`, `3h`, `10d`, or a bare number of seconds. */
export function durationMs(value: string, name = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!m) throw new ConfigError(`${name} must be a duration like 60s, 5m, 3d (got "${value}")`);
  const n = Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000);
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
      if (value !== undefined && key in ConfigSchema.properties) merged[key] = value;
    }
  }
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, merged));
  const first = Value.Errors(ConfigSchema, value)[0];
  if (first) {
    const name = first.instancePath.replace(/^\//, '') || 'configuration';
    throw new ConfigError(`${name} ${first.message} (got ${JSON.stringify((value as Record<string, unknown>)[name])})`);
  }
  return value as Config;
}
