import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { AllowedOrigins } from '../config';
import { SECURITY_HEADERS } from './headers';

const ALLOWED_HEADERS = 'content-type, x-functions-key, traceparent';
const EXPOSED_HEADERS = 'retry-after';

/**
 * CORS for an answer. Listed origins are echoed back with credentials allowed (Easy Auth's
 * session cookie); `*` allows any origin but never with credentials, which browsers would refuse
 * and which would hand every site the signed-in user's tokens.
 */
export function corsHeaders(
  origin: string | null,
  allowed: AllowedOrigins,
): Record<string, string> {
  if (allowed === '*')
    return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED_HEADERS };
  const headers: Record<string, string> = allowed.length > 0 ? { Vary: 'Origin' } : {};
  if (origin && allowed.includes(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Allow-Credentials'] = 'true';
    headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS;
  }
  return headers;
}

/** The answer to a preflight: what a browser may send, or no CORS headers at all. */
export function preflightResponse(request: HttpRequest, allowed: AllowedOrigins): HttpResponseInit {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    ...corsHeaders(request.headers.get('origin'), allowed),
  };
  if (
    headers['Access-Control-Allow-Origin'] &&
    request.headers.get('access-control-request-method')
  ) {
    headers['Access-Control-Allow-Methods'] = 'GET, POST, DELETE';
    headers['Access-Control-Allow-Headers'] = ALLOWED_HEADERS;
    headers['Access-Control-Max-Age'] = '600';
  }
  return { status: 204, headers };
}
