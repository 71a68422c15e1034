import type {
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import { AppError } from '../domain/errors';
import { correlationId, logEvent } from './log';
import { toProblemResponse } from './problem';
import { newRequestFacts, type RequestFacts } from './requestFacts';

/**
 * Every route registers every method the Node worker can hand to a handler, so that a wrong one
 * gets a 405 problem with `Allow` instead of the host's bare 404: the host routes a method only
 * when the registration lists it (azure-functions-host WebScriptHostHttpRoutesManager,
 * HttpMethodRouteConstraint). OPTIONS included: CORS preflights never reach the app (the
 * platform's CORS layer ends them, see docs/platform-parity.md), so an OPTIONS that does is a
 * plain request for a method we lack. TRACE and CONNECT are in `HttpMethod` too, but
 * `@azure/functions` builds every request on the Fetch API's `Request`, which refuses both
 * (Fetch's forbidden methods): registered, they would fail in the worker with a 500 before the
 * handler runs; unregistered, the host answers 404 (docs/api.md, tests/unit/openapi.test.ts).
 */
export const ALL_METHODS: HttpMethod[] = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
];

type Handler = (
  request: HttpRequest,
  context: InvocationContext,
  facts: RequestFacts,
) => Promise<HttpResponseInit>;

/**
 * Wraps a function's handler with what every endpoint shares: the method check, the single
 * error-to-problem mapping and one structured log record per request (never a body or header).
 */
export function endpoint(methods: readonly HttpMethod[], handler: Handler): HttpHandler {
  return async (request, context) => {
    const started = performance.now();
    const path = new URL(request.url).pathname;
    const facts = newRequestFacts();
    let response: HttpResponseInit;
    let outcome = 'ok';
    try {
      if (!(methods as readonly string[]).includes(request.method)) {
        throw new AppError('method_not_allowed', `Use ${methods.join(' or ')} here.`, {
          allow: methods,
        });
      }
      response = await handler(request, context, facts);
    } catch (err) {
      outcome = err instanceof AppError ? err.code : 'internal_error';
      response = toProblemResponse(err, context, path);
    }
    const status = response.status ?? 200;
    const correlation = correlationId(context, request.headers.get('traceparent'));
    if (facts.identityGone) {
      // Self-healing is right when an identity was deleted, but a burst of these means the map
      // and the ACS resource no longer match (a new resource, a restored backup).
      logEvent(context, 'warn', 'identity_gone', {
        operation: context.functionName,
        correlationId: correlation,
      });
    }
    logEvent(context, status >= 500 ? 'error' : 'info', 'request', {
      operation: context.functionName,
      method: request.method,
      status,
      outcome,
      durationMs: Math.round(performance.now() - started),
      correlationId: correlation,
      invocationId: context.invocationId,
      ...facts,
      acsMs: Math.round(facts.acsMs),
    });
    return response;
  };
}
