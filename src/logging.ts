import type { FastifyRequest } from 'fastify';

const SECRET_PARAMS = /([?&](?:token|access_token|refresh|refresh_token|otp_code|code)=)[^&#]*/gi;

/** A URL with any token-like query parameter replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/** Paths pino blanks in every log line: credentials never reach the log (SPEC 1). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'body.refresh',
  'body.otp_code',
  'body.tokens',
  'tokens',
  'refresh',
  'token',
];

export const logSerializers = {
  req(req: FastifyRequest) {
    return {
      method: req.method,
      url: redactUrl(req.url),
      host: req.host,
      remoteAddress: req.ip,
    };
  },
};
