import { Type } from 'typebox';

/** Fastify's error shape, used by every REST route. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    code: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse', description: 'An error a client can act on: a status, a stable code and a sentence.' },
);

/** The usual error answers of an authenticated route, for the OpenAPI document. */
export const authErrors = {
  400: ErrorResponse,
  401: ErrorResponse,
  429: ErrorResponse,
};

export const bearer = [{ bearer: [] }];

/** The largest value of a PostgreSQL `integer` column (seq, serial ids): cursors above it are refused, not overflowed. */
export const INTEGER_COLUMN_MAX = 2_147_483_647;
