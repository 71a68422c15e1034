import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';

import { KeyRing, type PublishedKey } from './keyRing';
import {
  DEV_AUDIENCE,
  RolloverRequestSchema,
  TokenRequestSchema,
  type TokenRequest,
} from './tokenRequest';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/.well-known/jwks.json';
const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_LIFETIME_SECONDS = 3600;

export interface IssuerStats {
  discovery: number;
  jwks: number;
  tokens: number;
}

export interface RunningIssuer {
  /** The issuer identifier: the `iss` of every token and the base of discovery. */
  url: string;
  port: number;
  jwksUrl: string;
  /** Mints an access token, exactly as `POST /dev/token` does. */
  mint(request: TokenRequest): Promise<{ access_token: string; expires_in: number }>;
  /**
   * Signs `claims` exactly as given (no claim added) with the current key: for the stand-ins that
   * mint tokens of another issuer's shape, such as the local managed-identity endpoint, whose
   * tokens name Entra ID as their issuer.
   */
  sign(claims: JWTPayload): Promise<string>;
  rollover(retire?: boolean): Promise<string>;
  jwks(): { keys: PublishedKey[] };
  stats(): IssuerStats;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * A small OpenID Connect issuer for local work and tests: discovery, JWKS, key rollover on
 * demand (`POST /admin/rollover`) and `POST /dev/token`, which mints an RS256 access token from
 * the claims it is given. It signs for anyone who asks, so it listens on loopback only and is
 * never part of the deployed package (dist/dev is excluded by .funcignore).
 *
 * @example
 * const issuer = await startIssuer({ port: 0 });
 * const { access_token } = await issuer.mint({ sub: 'alice', roles: ['member'] });
 */
export async function startIssuer(
  opts: { port?: number; host?: string } = {},
): Promise<RunningIssuer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error('the local issuer listens on loopback only');
  const ring = await KeyRing.create();
  const stats: IssuerStats = { discovery: 0, jwks: 0, tokens: 0 };
  const server = createServer();
  // Idle sockets kept well beyond a client's reuse window (Node's 5 s default can close one a
  // client is about to reuse, which it sees as "other side closed"), as in the emulator.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 7080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const jwksUrl = `${url}${JWKS_PATH}`;

  const mint = async (request: TokenRequest) => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = request.expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS;
    const { sub, aud, iss, expiresInSeconds: _e, notBeforeInSeconds, ...claims } = request;
    const key = ring.signingKey;
    const token = await new SignJWT({
      ...(sub === undefined ? {} : { sub }),
      ...claims,
      ver: '1.0',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(iss ?? url)
      .setAudience(aud ?? DEV_AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(now + (notBeforeInSeconds ?? 0))
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(key.privateKey);
    stats.tokens += 1;
    return { access_token: token, expires_in: lifetime };
  };

  const sign = (claims: JWTPayload): Promise<string> => {
    const key = ring.signingKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .sign(key.privateKey);
  };

  const discovery = () => ({
    issuer: url,
    jwks_uri: jwksUrl,
    token_endpoint: `${url}/dev/token`,
    response_types_supported: ['token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['none'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'nbf', 'iat', 'roles', 'scp', 'appid', 'oid'],
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void route(req, res).catch(() => send(res, 500, { error: 'server_error' }));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!LOOPBACK.has(normalise(req.socket.remoteAddress))) {
      return send(res, 403, { error: 'access_denied', error_description: 'loopback only' });
    }
    const path = new URL(req.url ?? '/', url).pathname;
    const method = req.method ?? 'GET';
    if (path === DISCOVERY_PATH && method === 'GET') {
      stats.discovery += 1;
      return send(res, 200, discovery());
    }
    if (path === JWKS_PATH && method === 'GET') {
      stats.jwks += 1;
      return send(res, 200, ring.jwks());
    }
    if (path === '/admin/stats' && method === 'GET') return send(res, 200, { ...stats });
    if (path === '/dev/token' && method === 'POST') {
      const parsed = TokenRequestSchema.safeParse(await readJson(req));
      if (!parsed.success) return send(res, 400, invalidRequest(parsed.error.issues));
      const minted = await mint(parsed.data);
      return send(res, 200, { ...minted, token_type: 'Bearer' });
    }
    if (path === '/admin/rollover' && method === 'POST') {
      const parsed = RolloverRequestSchema.safeParse((await readJson(req)) ?? {});
      if (!parsed.success) return send(res, 400, invalidRequest(parsed.error.issues));
      await ring.rollover(parsed.data.retire ?? false);
      return send(res, 200, {
        kid: ring.signingKey.kid,
        published: ring.jwks().keys.map((k) => k.kid),
      });
    }
    return send(res, 404, { error: 'not_found', error_description: `no ${method} ${path}` });
  }

  return {
    url,
    port,
    jwksUrl,
    mint,
    sign,
    async rollover(retire = false) {
      await ring.rollover(retire);
      return ring.signingKey.kid;
    },
    jwks: () => ring.jwks(),
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function normalise(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

function invalidRequest(issues: readonly { path: PropertyKey[]; message: string }[]) {
  const first = issues[0];
  const where = first?.path.map(String).join('.') || 'body';
  return {
    error: 'invalid_request',
    error_description: `${where}: ${first?.message ?? 'invalid'}`,
  };
}

/** The JSON body, `undefined` when empty, or a marker the schemas refuse when it is not JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) return Symbol('too large');
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return Symbol('not JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'cache-control': 'no-store',
  });
  res.end(payload);
}
