import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWTPayload } from 'jose';

/**
 * The local managed-identity endpoint: the token service App Service and Flex Consumption run
 * beside the app, reached through `IDENTITY_ENDPOINT` with the secret `IDENTITY_HEADER` (REST
 * protocol, api-version 2019-08-01: MicrosoftDocs/azure-docs
 * articles/app-service/overview-managed-identity.md, "Using the REST protocol"). The caller this
 * is built for is @azure/identity's ManagedIdentityCredential, which hands the request to
 * @azure/msal-node (node_modules/@azure/msal-node/dist/client/ManagedIdentitySources/AppService.mjs:
 * GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=<scope without /.default>, header
 * X-IDENTITY-HEADER, plus client_id / mi_res_id / object_id for a user-assigned identity; the
 * answer is read in BaseManagedIdentitySource.mjs getServerTokenResponse: access_token,
 * expires_on, resource, token_type, and on failure `message` or `error`/`error_description`).
 *
 * Tokens are signed with the local issuer's key (dev/issuer), so anything that trusts that
 * issuer's JWKS can check them, and carry the claims Entra ID puts in an app-only v1.0 token
 * (learn.microsoft.com/entra/identity-platform/access-token-claims-reference): `aud` the resource
 * asked for, `iss` https://sts.windows.net/<tid>/, `tid`, `oid` and `sub` the identity's
 * principal id, `appid` its client id, `idtyp` app, `ver` 1.0, `xms_mirid` its resource id.
 */

/** An identity the app holds, as Entra and ARM name it. */
export interface LocalManagedIdentity {
  /** The application (client) id: `appid` in its tokens, `client_id` in answers. */
  clientId: string;
  /** The service principal's object id: `oid` and `sub`; what role assignments name. */
  principalId: string;
  /** The ARM id of the identity (`mi_res_id`; `xms_mirid` in its tokens). */
  resourceId: string;
}

export interface ManagedIdentityOptions {
  /** Signs the tokens (the local issuer's `sign`). */
  signer: { sign(claims: JWTPayload): Promise<string> };
  /** The tenant the identities live in (default LOCAL_TENANT_ID). */
  tenantId?: string;
  /** The app's system-assigned identity (default: SYSTEM_ASSIGNED). */
  systemAssigned?: LocalManagedIdentity;
  /** User-assigned identities the app also holds (default none). */
  userAssigned?: LocalManagedIdentity[];
  /** The value of IDENTITY_HEADER (default: a random one, as the platform rotates it). */
  identityHeader?: string;
  /** Token lifetime (default 24 h, the lifetime Entra gives managed-identity tokens). */
  lifetimeSeconds?: number;
  port?: number;
}

export interface ManagedIdentityStats {
  /** Tokens minted, per resource asked for. */
  tokens: Record<string, number>;
  /** Requests refused (any 4xx). */
  refused: number;
}

export interface RunningManagedIdentity {
  /** The full IDENTITY_ENDPOINT URL. */
  endpoint: string;
  identityHeader: string;
  tenantId: string;
  /** The issuer every token names: https://sts.windows.net/<tid>/. */
  issuer: string;
  systemAssigned: LocalManagedIdentity;
  /** The two settings the platform gives the app. */
  env(): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  stats(): ManagedIdentityStats;
  close(): Promise<void>;
}

export const API_VERSION = '2019-08-01';
export const TOKEN_PATH = '/msi/token';
/** A fixed tenant, so tokens and role assignments stay the same across restarts. */
export const LOCAL_TENANT_ID = '72f988bf-0000-4000-8000-00000000a11c';
export const SYSTEM_ASSIGNED: LocalManagedIdentity = {
  clientId: '5e29463d-71da-4fe0-8e69-0000000000c1',
  principalId: '0b7c2d1e-3f4a-4b5c-8d6e-0000000000a1',
  resourceId:
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Web/sites/acs-token-service',
};

const DAY_SECONDS = 86_400;
const LOOPBACK = new Set(['127.0.0.1', '::1']);

export async function startManagedIdentityEndpoint(
  opts: ManagedIdentityOptions,
): Promise<RunningManagedIdentity> {
  const tenantId = opts.tenantId ?? LOCAL_TENANT_ID;
  const issuer = `https://sts.windows.net/${tenantId}/`;
  const system = opts.systemAssigned ?? SYSTEM_ASSIGNED;
  const users = opts.userAssigned ?? [];
  const identityHeader = opts.identityHeader ?? randomUUID();
  const lifetime = opts.lifetimeSeconds ?? DAY_SECONDS;
  const stats: ManagedIdentityStats = { tokens: {}, refused: 0 };

  const server = createServer((req, res) => {
    void answer(req, res).catch(() => fail(res, 500, 'The token service failed unexpectedly.'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: whoever reaches it gets tokens for the app's identity.
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}${TOKEN_PATH}`;

  const refuse = (res: ServerResponse, status: number, message: string): void => {
    stats.refused += 1;
    fail(res, status, message);
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!LOOPBACK.has((req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''))) {
      return refuse(res, 403, 'The token service only answers the app on this machine.');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.replace(/\/$/, '').toLowerCase() !== TOKEN_PATH) {
      return refuse(res, 404, `No resource at '${url.pathname}'.`);
    }
    if (req.method !== 'GET') return refuse(res, 405, `Method ${req.method} is not allowed.`);
    // The SSRF guard: a request that was not built by the app itself carries no secret.
    if (req.headers['x-identity-header'] !== identityHeader) {
      return refuse(res, 401, 'The X-IDENTITY-HEADER header is missing or not the current one.');
    }
    const q = url.searchParams;
    if (q.get('api-version') !== API_VERSION) {
      return refuse(res, 400, `api-version must be ${API_VERSION}.`);
    }
    const resource = q.get('resource');
    if (!resource) return refuse(res, 400, "The 'resource' query parameter is required.");
    const named = (['client_id', 'principal_id', 'object_id', 'mi_res_id'] as const).filter((p) =>
      q.has(p),
    );
    if (named.length > 1) {
      return refuse(res, 400, `Use one of client_id, principal_id, object_id, mi_res_id.`);
    }
    const identity = pick(named[0], named[0] && q.get(named[0]));
    // The platform's answer for an identity the app does not hold (Azure/azure-sdk-for-net#43691:
    // 400 {"statusCode":400,"message":"Unable to load the proper Managed Identity.",...}).
    if (!identity) return refuse(res, 400, 'Unable to load the proper Managed Identity.');

    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = {
      aud: resource,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      appid: identity.clientId,
      appidacr: '2',
      idp: issuer,
      idtyp: 'app',
      oid: identity.principalId,
      sub: identity.principalId,
      tid: tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
      xms_mirid: identity.resourceId,
    };
    const token = await opts.signer.sign(claims);
    stats.tokens[resource] = (stats.tokens[resource] ?? 0) + 1;
    send(res, 200, {
      access_token: token,
      // Strings of epoch seconds, as in the documented sample answer.
      expires_on: String(now + lifetime),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
      client_id: identity.clientId,
    });
  }

  function pick(param: string | undefined, value: string | null | undefined) {
    if (param === undefined) return system;
    const all = users;
    const wanted = (value ?? '').toLowerCase();
    if (param === 'client_id') return all.find((i) => i.clientId.toLowerCase() === wanted);
    if (param === 'mi_res_id') return all.find((i) => i.resourceId.toLowerCase() === wanted);
    return all.find((i) => i.principalId.toLowerCase() === wanted);
  }

  return {
    endpoint,
    identityHeader,
    tenantId,
    issuer,
    systemAssigned: system,
    env: () => ({ IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: identityHeader }),
    stats: () => ({ tokens: { ...stats.tokens }, refused: stats.refused }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The error shape of the platform's token service (statusCode, message, correlationId). */
function fail(res: ServerResponse, status: number, message: string): void {
  const correlationId = randomUUID();
  send(
    res,
    status,
    { statusCode: status, message, correlationId },
    { 'x-correlation-id': correlationId },
  );
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
  });
  res.end(payload);
}
