/** What the emulator stand-in's suites (tests/standins/emulator*.test.ts) share. */
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { type RunningEmulator, startEmulator } from '../../dev/emulator';
import type { AccessTokenClaims as JwtClaims } from '../../dev/emulator/tokens';

const execFileAsync = promisify(execFile);
export const RESOURCE_ID = '3f0c1a52-8d4e-4b7a-9c1e-5a2b6d7e8f90';
export const API = 'api-version=2023-10-01';
export const ID_PATTERN = new RegExp(
  `^8:acs:${RESOURCE_ID}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
);
export const ZERO_COUNTS = {
  createUser: 0,
  createUserAndToken: 0,
  issueAccessToken: 0,
  revokeAccessTokens: 0,
  deleteIdentity: 0,
  exchangeTeamsToken: 0,
  rejected: 0,
};
export const DEFAULT_FAULTS = {
  latencyMs: 0,
  errorStatus: 503,
  errorRate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  dropAfterCommitRate: 0,
  malformedRate: 0,
};

/** The parts of the SDK's RestError the tests look at. */
export interface SdkError {
  statusCode?: number;
  code?: string;
  details?: unknown;
  response?: { headers: { get(name: string): string | undefined } };
}

/** The suite's emulator, started by `useSuiteEmulator`. */
export let emu: RunningEmulator;

/**
 * Gives the calling test file its own emulator (with a known resource id) and fresh identities
 * before each test.
 */
export function useSuiteEmulator(): void {
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, resourceId: RESOURCE_ID });
  });
  afterAll(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset({ identities: true });
  });
}

export function sdk(connectionString = emu.connectionString): CommunicationIdentityClient {
  return new CommunicationIdentityClient(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

export async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

export function acsError(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function decodeClaims(token: string): JwtClaims {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims;
}

/**
 * Signs a request the way the ACS docs describe, independently of the emulator's code, so
 * the raw tests below prove the scheme rather than the emulator agreeing with itself.
 */
export async function signedFetch(
  method: string,
  pathAndQuery: string,
  body = '',
  opts: { key?: string; date?: Date; hashOf?: string; authorization?: string } = {},
): Promise<Response> {
  const host = new URL(emu.url).host;
  const date = (opts.date ?? new Date()).toUTCString();
  const hash = createHash('sha256')
    .update(opts.hashOf ?? body)
    .digest('base64');
  const stringToSign = `${method}\n${pathAndQuery}\n${date};${host};${hash}`;
  const signature = createHmac('sha256', Buffer.from(opts.key ?? emu.accessKey, 'base64'))
    .update(stringToSign)
    .digest('base64');
  return fetch(`${emu.url}${pathAndQuery}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-ms-date': date,
      'x-ms-content-sha256': hash,
      authorization:
        opts.authorization ??
        `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
    },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body }),
  });
}

export async function admin(method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${emu.url}${route}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export async function introspect(token: string): Promise<unknown> {
  const res = await admin('POST', '/admin/introspect', { token });
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * Verifies a token with jose against the emulator's JWKS. jose is ESM-only and Jest runs
 * CommonJS here, so it runs in a child Node process, which also keeps it independent.
 */
export async function verifyWithJose(
  token: string,
): Promise<{ header?: unknown; payload?: unknown; error?: string }> {
  const script = `
    import { createRemoteJWKSet, jwtVerify } from 'jose';
    const [token, jwksUrl, issuer] = process.argv.slice(1);
    try {
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUrl)), {
        issuer,
        algorithms: ['RS256'],
      });
      process.stdout.write(JSON.stringify({ header: protectedHeader, payload }));
    } catch (err) {
      process.stdout.write(JSON.stringify({ error: err.code ?? String(err) }));
    }
  `;
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--input-type=module', '-e', script, token, emu.jwksUrl, emu.url],
    { cwd: path.resolve(__dirname, '../..') },
  );
  return JSON.parse(stdout) as { header?: unknown; payload?: unknown; error?: string };
}

export const TEAMS_APP_ID = '11111111-aaaa-4bbb-8ccc-222222222222';
export const TEAMS_USER_ID = '33333333-dddd-4eee-8fff-444444444444';
