import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DestinationStream } from 'pino';
import { loadSettings } from './src/settings.js';
import { systemClock, type Clock } from './src/clock.js';
import { logSerializers, redactPaths } from './src/logging.js';
import accountsPlugin from './plugins/accounts.js';
import dbPlugin from './plugins/db.js';
import envPlugin from './plugins/env.js';
import errorsPlugin from './plugins/errors.js';
import inputValuePlugin from './plugins/input-value.js';
import jwtPlugin from './plugins/jwt.js';
import mailerPlugin from './plugins/mailer.js';
import openaiPlugin from './plugins/openai.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import redisPlugin from './plugins/redis.js';
import sessionsPlugin from './plugins/sessions.js';
import swaggerPlugin from './plugins/swagger.js';
import websocketPlugin from './plugins/websocket.js';
import socketTransportPlugin from './plugins/socket-transport.js';
import authRoutes from './routes/auth.js';
import healthRoutes from './routes/health.js';
import metricsPlugin from './plugins/metrics.js';
import imagesPlugin from './plugins/images.js';
import imagesRoutes from './routes/images.js';
import tutorPlugin from './plugins/tutor.js';
import grammarRoutes from './routes/grammar.js';
import chatHistoryRoutes from './routes/chat-history.js';
import tutorSocketRoutes from './routes/tutor-socket.js';
import whiteboardPlugin from './plugins/whiteboard.js';
import roomsRoutes from './routes/rooms.js';
import whiteboardSocketRoutes from './routes/whiteboard-socket.js';
import corsPlugin from './plugins/cors.js';
import webAppPlugin from './plugins/web-app.js';
import asyncapiRoutes from './routes/asyncapi.js';

export interface BuildOptions {
  /** Variables that win over everything else (tests set these). */
  env?: Record<string, string | number | undefined>;
  /** Read process.env (default true; tests turn it off so the developer's shell cannot leak in). */
  processEnv?: boolean;
  /** Variables from a .env file, read by the entry point. */
  dotenv?: Record<string, string>;
  clock?: Clock;
  /** Where pino writes (default stdout); tests capture the log through this. */
  logStream?: DestinationStream;
  /** Test isolation on a shared PostgreSQL: a schema of this app's own, dropped on close. */
  dbSchema?: string;
  dropSchemaOnClose?: boolean;
  /** An embedded-database dump to start from instead of an empty one (speeds up tests). */
  pgliteTemplate?: Blob;
}

export type App = FastifyInstance;

/** The one factory behind `npm start` and the tests. Throws ConfigError for a refused configuration. */
export async function buildApp(options: BuildOptions = {}): Promise<App> {
  const settings = loadSettings(options.dotenv, options.processEnv === false ? undefined : process.env, options.env);

  const app = Fastify({
    logger: {
      level: settings.http.logLevel,
      redact: { paths: redactPaths, censor: '[redacted]' },
      serializers: logSerializers,
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // A hop count is valid at run time (proxy-addr), though the type omits it.
    trustProxy: settings.http.trustProxy as boolean | string[],
    routerOptions: { ignoreTrailingSlash: true },
    // A fresh embedded database runs initdb in its thread before the db plugin is ready: seconds, more on a busy machine.
    pluginTimeout: 120_000,
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('clock', options.clock ?? systemClock);
  await app.register(errorsPlugin);
  await app.register(inputValuePlugin);
  await app.register(envPlugin, { data: settings });
  await app.register(dbPlugin, { schema: options.dbSchema, dropSchemaOnClose: options.dropSchemaOnClose, pgliteTemplate: options.pgliteTemplate });
  await app.register(redisPlugin);
  await app.register(jwtPlugin);
  await app.register(mailerPlugin);
  await app.register(openaiPlugin);
  await app.register(corsPlugin);
  await app.register(rateLimitPlugin);
  await app.register(websocketPlugin);
  await app.register(swaggerPlugin);
  await app.register(accountsPlugin);
  // Before the parts it observes: they take their observers from it.
  await app.register(metricsPlugin);
  await app.register(socketTransportPlugin);
  await app.register(sessionsPlugin);
  await app.register(imagesPlugin);
  await app.register(tutorPlugin);
  await app.register(whiteboardPlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes, { prefix: '/api/v1/auth' });
  await app.register(imagesRoutes, { prefix: '/api/v1/images' });
  await app.register(grammarRoutes, { prefix: '/api/v1/grammar' });
  await app.register(chatHistoryRoutes, { prefix: '/api/v1/chat/history' });
  await app.register(tutorSocketRoutes);
  await app.register(roomsRoutes, { prefix: '/api/v1/rooms' });
  await app.register(whiteboardSocketRoutes);
  await app.register(asyncapiRoutes);
  await app.register(webAppPlugin);

  return app as unknown as App;
}
