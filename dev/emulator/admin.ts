import type { RequestBody } from './acs';
import { badRequest, invalidJson, methodNotAllowed, pathNotFound } from './errors';
import type { EmulatorState } from './state';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface AdminReply {
  status: number;
  body?: unknown;
}

/** True for the paths served without HMAC: the admin surface and the JWKS. */
export function isAdminPath(pathname: string): boolean {
  return pathname === JWKS_PATH || pathname === '/admin' || pathname.startsWith('/admin/');
}

/** Loopback-only applies to /admin/*; the JWKS is public, as a real issuer's would be. */
export function needsLoopback(pathname: string): boolean {
  return pathname !== JWKS_PATH;
}

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

export function handleAdmin(
  method: string,
  pathname: string,
  body: RequestBody,
  state: EmulatorState,
  nowMs: number,
): AdminReply {
  const allow = (...methods: string[]): void => {
    if (!methods.includes(method)) throw methodNotAllowed(method, methods);
  };
  switch (pathname) {
    case JWKS_PATH:
      allow('GET');
      return { status: 200, body: state.signer.jwks() };
    case '/admin/stats':
      allow('GET');
      return { status: 200, body: { calls: state.counts(), identities: state.store.summary() } };
    case '/admin/identities':
      allow('GET');
      return { status: 200, body: state.store.list() };
    case '/admin/faults':
      allow('GET', 'PUT');
      if (method === 'GET') return { status: 200, body: state.faults() };
      return { status: 200, body: state.setFaults(jsonBody(body)) };
    case '/admin/reset': {
      allow('POST');
      const request = body.kind === 'empty' ? {} : objectOf(jsonBody(body));
      if (request.identities !== undefined && typeof request.identities !== 'boolean') {
        throw badRequest("'identities' must be a boolean.");
      }
      state.reset({ identities: request.identities === true });
      return { status: 204 };
    }
    case '/admin/introspect': {
      allow('POST');
      const { token } = objectOf(jsonBody(body));
      if (typeof token !== 'string' || token === '') {
        throw badRequest("'token' is required and must be a non-empty string.");
      }
      return { status: 200, body: state.introspect(token, nowMs) };
    }
    default:
      throw pathNotFound(pathname);
  }
}

function jsonBody(body: RequestBody): unknown {
  if (body.kind === 'invalid') throw invalidJson();
  if (body.kind === 'empty') throw badRequest('A JSON request body is required.');
  return body.value;
}

function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
