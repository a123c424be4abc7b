import { type Config, ConfigError, corsOriginsOf, durationMs, isProduction, loadConfig, type MailTransport, mailTransportOf, trustProxyOf } from './config.js';

/**
 * The configuration as each capability uses it: parsed once, at start, into typed values
 * (durations in milliseconds, lists split, choices resolved). Nothing outside src/config.ts and
 * this file reads an environment variable or parses a setting.
 */
export interface Settings {
  production: boolean;
  http: HttpSettings;
  database: DatabaseSettings;
  auth: AuthSettings;
  mail: MailSettings;
  ai: AiSettings;
  images: ImageSettings;
  tutor: TutorSettings;
  sockets: SocketSettings;
  whiteboard: WhiteboardSettings;
  redis: RedisSettings;
  metrics: MetricsSettings;
}

export interface HttpSettings {
  host: string;
  port: number;
  logLevel: Config['LOG_LEVEL'];
  /** Origin for absolute URLs, without a trailing slash ('' for relative URLs). */
  publicUrl: string;
  trustProxy: boolean | number | string[];
  corsOrigins: string[];
  apiRateLimitPerMinute: number;
}

export interface DatabaseSettings {
  /** '' for the embedded database. */
  url: string;
  pgliteDir: string;
  timeoutMs: number;
}

export interface AuthSettings {
  /** '' when unset (a generated one is used outside production). */
  jwtSecret: string;
  accessTtlMs: number;
  refreshTtlMs: number;
  otp: {
    ttlMs: number;
    maxAttempts: number;
    cooldownMs: number;
    perAddressHourly: number;
    generatePerIpHourly: number;
    verifyPerIp: number;
    verifyWindowMs: number;
  };
}

export interface MailSettings {
  transport: MailTransport;
  smtpUrl: string;
  from: string;
}

/** The OpenAI (or compatible) provider shared by pictures and the tutor. */
export interface AiSettings {
  /** '' when unset: pictures are placeholders, the tutor is unavailable. */
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
}

export interface ImageSettings {
  model: string;
  perMinute: number;
  downloadTimeoutMs: number;
  maxBytes: number;
}

export interface TutorSettings {
  chatModel: string;
  transcribeModel: string;
  ttsModel: string;
  ttsVoice: string;
  questionsPerMinute: number;
  queueLimit: number;
  audioMaxBytes: number;
  historyMessages: number;
}

/** What both sockets (/ws and /chat) share. */
export interface SocketSettings {
  maxPayload: number;
  sendBufferLimit: number;
  heartbeatMs: number;
}

export interface WhiteboardSettings {
  rateBurst: number;
  ratePerSecond: number;
  connectionsPerIpPerMinute: number;
  roomMaxDrawings: number;
  /** Each room's event log keeps at least its last `events` events or those of the last `ageMs`. */
  eventLog: { events: number; ageMs: number };
}

export interface RedisSettings {
  /** '' for one process with everything in memory. */
  url: string;
  keyPrefix: string;
}

export interface MetricsSettings {
  enabled: boolean;
  /** '' for an open /metrics. */
  token: string;
}

/** Collects every refusal instead of stopping at the first, so the operator sees them all at once. */
class Problems {
  readonly list: string[] = [];

  add(problem: string): void {
    this.list.push(problem);
  }

  /** The value fn computes, or fallback (never used: the start is refused) when it is refused. */
  take<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.list.push(err.message);
      return fallback;
    }
  }

  duration(config: Config, name: DurationName): number {
    return this.take(() => durationMs(config[name], name), 0);
  }

  url(config: Config, name: 'DATABASE_URL' | 'SMTP_URL' | 'REDIS_URL' | 'PUBLIC_URL', schemes: string[]): string {
    const value = config[name];
    const why = value === '' ? undefined : badUrl(value, schemes);
    if (why) this.add(`${name} ${why}`);
    return value;
  }
}

type DurationName = { [K in keyof Config]: Config[K] extends string ? K : never }[keyof Config];

/** Why a URL-valued variable is refused, or undefined when it is an acceptable URL of these schemes. */
function badUrl(value: string, schemes: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL like ${schemes[0]}//host:port (got something that is not a URL)`;
  }
  if (!schemes.includes(url.protocol)) return `must start with ${schemes.join(' or ')} (got ${url.protocol})`;
  return undefined;
}

function databaseOf(c: Config, p: Problems): DatabaseSettings {
  return {
    url: p.url(c, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    pgliteDir: c.PGLITE_DIR,
    timeoutMs: p.duration(c, 'DATABASE_TIMEOUT'),
  };
}

function buildSettings(c: Config, p: Problems): Settings {
  const production = isProduction(c);
  const http: HttpSettings = {
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    publicUrl: p.url(c, 'PUBLIC_URL', ['https:', 'http:']).replace(/\/+$/, ''),
    trustProxy: trustProxyOf(c),
    corsOrigins: p.take(() => corsOriginsOf(c), []),
    apiRateLimitPerMinute: c.API_RATE_LIMIT_PER_MINUTE,
  };
  const database = databaseOf(c, p);
  const auth: AuthSettings = {
    jwtSecret: c.JWT_SECRET,
    accessTtlMs: p.duration(c, 'ACCESS_TOKEN_TTL'),
    refreshTtlMs: p.duration(c, 'REFRESH_TOKEN_TTL'),
    otp: {
      ttlMs: p.duration(c, 'OTP_TTL'),
      maxAttempts: c.OTP_MAX_ATTEMPTS,
      cooldownMs: p.duration(c, 'OTP_COOLDOWN'),
      perAddressHourly: c.OTP_PER_ADDRESS_HOURLY,
      generatePerIpHourly: c.OTP_GENERATE_PER_IP_HOURLY,
      verifyPerIp: c.OTP_VERIFY_PER_IP,
      verifyWindowMs: p.duration(c, 'OTP_VERIFY_WINDOW'),
    },
  };
  const mail: MailSettings = {
    transport: p.take(() => mailTransportOf(c), 'log'),
    smtpUrl: p.url(c, 'SMTP_URL', ['smtp:', 'smtps:']),
    from: c.MAIL_FROM,
  };
  const redis: RedisSettings = { url: p.url(c, 'REDIS_URL', ['redis:', 'rediss:']), keyPrefix: c.REDIS_KEY_PREFIX };

  if (redis.url !== '' && database.url === '') {
    p.add('REDIS_URL is set but DATABASE_URL is not: several instances need PostgreSQL, not the embedded database');
  }
  const mailRefused = p.list.some((problem) => problem.startsWith('MAIL_TRANSPORT'));
  if (!mailRefused && mail.transport === 'smtp' && mail.smtpUrl === '') p.add('SMTP_URL must be set when MAIL_TRANSPORT is smtp (the default in production)');
  if (production) {
    if (auth.jwtSecret.length < 32) p.add('JWT_SECRET must be set to at least 32 characters when NODE_ENV=production');
    if (!mailRefused && mail.transport === 'log') p.add('MAIL_TRANSPORT=log would write login codes to the log; use smtp when NODE_ENV=production');
  }

  return {
    production,
    http,
    database,
    auth,
    mail,
    ai: { apiKey: c.OPENAI_API_KEY, baseUrl: c.OPENAI_BASE_URL, timeoutMs: p.duration(c, 'OPENAI_TIMEOUT'), maxRetries: c.OPENAI_MAX_RETRIES },
    images: {
      model: c.OPENAI_IMAGE_MODEL,
      perMinute: c.AI_IMAGES_PER_MINUTE,
      downloadTimeoutMs: p.duration(c, 'AI_IMAGE_DOWNLOAD_TIMEOUT'),
      maxBytes: c.AI_IMAGE_MAX_BYTES,
    },
    tutor: {
      chatModel: c.OPENAI_CHAT_MODEL,
      transcribeModel: c.OPENAI_TRANSCRIBE_MODEL,
      ttsModel: c.OPENAI_TTS_MODEL,
      ttsVoice: c.OPENAI_TTS_VOICE,
      questionsPerMinute: c.TUTOR_QUESTIONS_PER_MINUTE,
      queueLimit: c.TUTOR_QUEUE_LIMIT,
      audioMaxBytes: c.TUTOR_AUDIO_MAX_BYTES,
      historyMessages: c.TUTOR_HISTORY_MESSAGES,
    },
    sockets: { maxPayload: c.WS_MAX_PAYLOAD, sendBufferLimit: c.WS_SEND_BUFFER_LIMIT, heartbeatMs: p.duration(c, 'WS_HEARTBEAT_INTERVAL') },
    whiteboard: {
      rateBurst: c.WS_RATE_BURST,
      ratePerSecond: c.WS_RATE_PER_SECOND,
      connectionsPerIpPerMinute: c.WS_CONNECTIONS_PER_IP_PER_MINUTE,
      roomMaxDrawings: c.ROOM_MAX_DRAWINGS,
      eventLog: { events: c.ROOM_EVENT_LOG_EVENTS, ageMs: p.duration(c, 'ROOM_EVENT_LOG_AGE') },
    },
    redis,
    metrics: { enabled: c.METRICS, token: c.METRICS_TOKEN },
  };
}

/** Refuses, in one line listing every problem, a configuration that must not start. */
function refuseIfAny(p: Problems): void {
  if (p.list.length) throw new ConfigError(p.list.join('; '));
}

/** The checked settings of a validated configuration; throws one ConfigError naming every refusal. */
export function settingsOf(config: Config): Settings {
  const problems = new Problems();
  const settings = buildSettings(config, problems);
  refuseIfAny(problems);
  return settings;
}

/** Reads the raw sources (later ones win, as in loadConfig) into settings: the one parse at start. */
export function loadSettings(...sources: Array<Record<string, unknown> | undefined>): Settings {
  return settingsOf(loadConfig(...sources));
}

/** Only what migrations need, so that `npm run migrate` is not refused over mail or tokens. */
export function loadDatabaseSettings(...sources: Array<Record<string, unknown> | undefined>): DatabaseSettings {
  const problems = new Problems();
  const database = databaseOf(loadConfig(...sources), problems);
  refuseIfAny(problems);
  return database;
}
