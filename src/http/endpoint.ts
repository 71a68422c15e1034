import type {
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import { AppError } from '../domain/errors';
import { toProblemResponse } from './problem';

/** Registered for every method so that a wrong one gets a 405 problem instead of a bare 404. */
export const ALL_METHODS: HttpMethod[] = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
];

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Wraps a function's handler with what every endpoint shares: the method check, the single
 * error-to-problem mapping and one log record per request (never the body or headers).
 */
export function endpoint(methods: readonly HttpMethod[], handler: Handler): HttpHandler {
  return async (request, context) => {
    const started = performance.now();
    const path = new URL(request.url).pathname;
    let response: HttpResponseInit;
    try {
      if (!(methods as readonly string[]).includes(request.method)) {
        throw new AppError('method_not_allowed', `Use ${methods.join(' or ')} here.`, {
          allow: methods,
        });
      }
      response = await handler(request, context);
    } catch (err) {
      response = toProblemResponse(err, context, path);
    }
    context.info('request', {
      operation: context.functionName,
      method: request.method,
      status: response.status ?? 200,
      durationMs: Math.round(performance.now() - started),
    });
    return response;
  };
}
