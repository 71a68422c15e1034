import { app } from '@azure/functions';
import { preflightResponse } from '../http/cors';
import { corsOrigins } from '../runtime';

/**
 * CORS preflights for every route. Browsers send them without credentials or keys, so this
 * function is anonymous; it only ever answers with headers, never with data.
 */
const preflightHandler = async (request: Parameters<typeof preflightResponse>[0]) =>
  Promise.resolve(preflightResponse(request, corsOrigins()));

app.http('preflight', {
  route: '{*path}',
  methods: ['OPTIONS'],
  authLevel: 'anonymous',
  handler: preflightHandler,
});
