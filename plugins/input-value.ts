import fp from 'fastify-plugin';
import { AppError } from './errors.js';
import { inputProblem } from '../src/input-value.js';

/**
 * Every REST route refuses, with 400 invalid_request, path parameters, query values and bodies
 * holding text that cannot be stored (NUL, lone surrogates) or numbers that are not finite (a
 * query's "1e400" coerces to Infinity past the schema's bounds). Runs after schema validation.
 */
export default fp(
  async (app) => {
    app.addHook('preHandler', async (req) => {
      const problem = inputProblem(req.params, 'params') ?? inputProblem(req.query, 'query') ?? inputProblem(req.body, 'body');
      if (problem) throw new AppError(400, 'invalid_request', problem);
    });
  },
  { name: 'input-value' },
);
