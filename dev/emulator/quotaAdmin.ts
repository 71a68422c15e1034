import type { RequestBody } from './acs';
import { parseKeyType, type AccessKeys } from './accessKeys';
import { badRequest, invalidJson, methodNotAllowed } from './errors';
import type { QuotaGate } from './quotas';
import type { AdminReply } from './admin';

/**
 * The admin paths of quotas and access keys (loopback-only, like the rest of /admin):
 * - `GET|PUT /admin/quotas`: the quota settings (PUT merges `{enabled, windowSeconds, limits}`);
 * - `GET /admin/keys`: both keys and connection strings, as ARM's listKeys answers;
 * - `POST /admin/keys/regenerate` `{"keyType":"Primary"|"Secondary"}`: as ARM's regenerateKey.
 * Returns undefined for any other path.
 */
export function handleQuotaAdmin(
  method: string,
  pathname: string,
  body: RequestBody,
  quotas: QuotaGate,
  keys: AccessKeys,
): AdminReply | undefined {
  const allow = (...methods: string[]): void => {
    if (!methods.includes(method)) throw methodNotAllowed(method, methods);
  };
  switch (pathname) {
    case '/admin/quotas':
      allow('GET', 'PUT');
      if (method === 'GET') return { status: 200, body: quotas.settings() };
      return { status: 200, body: quotas.configure(jsonBody(body)) };
    case '/admin/keys':
      allow('GET');
      return { status: 200, body: keys.list() };
    case '/admin/keys/regenerate':
      allow('POST');
      return { status: 200, body: keys.regenerate(parseKeyType(jsonBody(body))) };
    default:
      return undefined;
  }
}

function jsonBody(body: RequestBody): unknown {
  if (body.kind === 'invalid') throw invalidJson();
  if (body.kind === 'empty') throw badRequest('A JSON request body is required.');
  return body.value;
}
