import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';
import { inputProblem } from '../src/input-value.js';

/**
 * Every REST route refuses, with 400 invalid_request, path parameters, query values and bodies
 * holding text that cannot be stored (NUL, lone surrogates) or numbers that are not finite (a
 * query's "1e400" coerces to Infinity past the schema's bounds), ignored extra fields included.
 */
export default fp(
  async (app) => {
    const check = async (req: FastifyRequest) => {
      const problem = inputProblem(req.params, 'params') ?? inputProblem(req.query, 'query') ?? inputProblem(req.body, 'body');
      if (problem) throw new AppError(400, 'invalid_request', problem);
    };
    // Before validation, which drops unknown body fields unseen; after it, for what coercion made of the query.
    app.addHook('preValidation', check);
    app.addHook('preHandler', check);
  },
  { name: 'input-value' },
);
