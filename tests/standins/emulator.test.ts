import { CommunicationIdentityClient } from '@azure/communication-identity';
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';

import { type RunningEmulator, startEmulator } from '../../dev/emulator';
import type { AccessTokenClaims as JwtClaims } from '../../dev/emulator/tokens';
import { eventually } from '../support/poll';

const execFileAsync = promisify(execFile);
const RESOURCE_ID = '3f0c1a52-8d4e-4b7a-9c1e-5a2b6d7e8f90';
const API = 'api-version=2023-10-01';
const ID_PATTERN = new RegExp(
  `^8:acs:${RESOURCE_ID}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
);
const ZERO_COUNTS = {
  createUser: 0,
  createUserAndToken: 0,
  issueAccessToken: 0,
  revokeAccessTokens: 0,
  deleteIdentity: 0,
  exchangeTeamsToken: 0,
  rejected: 0,
};
const DEFAULT_FAULTS = {
  latencyMs: 0,
  errorStatus: 503,
  errorRate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  dropAfterCommitRate: 0,
  malformedRate: 0,
};

/** The parts of the SDK's RestError the tests look at. */
interface SdkError {
  statusCode?: number;
  code?: string;
  details?: unknown;
  response?: { headers: { get(name: string): string | undefined } };
}

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, resourceId: RESOURCE_ID });
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.reset({ identities: true });
});

function sdk(connectionString = emu.connectionString): CommunicationIdentityClient {
  return new CommunicationIdentityClient(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}

function acsError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function decodeClaims(token: string): JwtClaims {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims;
}

/**
 * Signs a request the way the ACS docs describe, independently of the emulator's code, so
 * the raw tests below prove the scheme rather than the emulator agreeing with itself.
 */
async function signedFetch(
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

async function admin(method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${emu.url}${route}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function introspect(token: string): Promise<unknown> {
  const res = await admin('POST', '/admin/introspect', { token });
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * Verifies a token with jose against the emulator's JWKS. jose is ESM-only and Jest runs
 * CommonJS here, so it runs in a child Node process, which also keeps it independent.
 */
async function verifyWithJose(
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

const TEAMS_APP_ID = '11111111-aaaa-4bbb-8ccc-222222222222';
const TEAMS_USER_ID = '33333333-dddd-4eee-8fff-444444444444';

describe('ACS emulator through the real SDK', () => {
  it('creates a user and a token that verifies against the JWKS with the requested claims', async () => {
    const result = await sdk().createUserAndToken(['chat', 'voip'], { tokenExpiresInMinutes: 60 });
    const id = result.user.communicationUserId;
    expect(id).toMatch(ID_PATTERN);

    const verified = await verifyWithJose(result.token);
    expect(verified.error).toBeUndefined();
    const claims = verified.payload as JwtClaims;
    const jwks = (await (await fetch(emu.jwksUrl)).json()) as { keys: { kid: string }[] };
    expect(verified.header).toEqual({ alg: 'RS256', kid: jwks.keys[0]?.kid, typ: 'JWT' });
    expect(claims).toEqual({
      sub: id,
      skypeid: id.slice('8:'.length),
      acsScope: 'chat,voip',
      scp: ['chat', 'voip'],
      iat: claims.iat,
      exp: claims.iat + 3600,
      jti: claims.jti,
      iss: emu.url,
      resourceId: RESOURCE_ID,
    });
    expect(claims.exp * 1000).toBe(result.expiresOn.getTime());
    expect(Math.abs(claims.iat * 1000 - Date.now())).toBeLessThan(5000);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUserAndToken: 1 });
  });

  it('issues tokens that fail jose verification once tampered with', async () => {
    const { token } = await sdk().createUserAndToken(['chat']);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, scp: ['chat', 'voip'] })).toString(
      'base64url',
    );
    const verified = await verifyWithJose(`${header}.${forged}.${signature}`);
    expect(verified).toEqual({ error: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('creates a user, then issues a token with the default 24 h lifetime', async () => {
    const client = sdk();
    const user = await client.createUser();
    expect(user.communicationUserId).toMatch(ID_PATTERN);
    const token = await client.getToken(user, ['voip.join']);
    const claims = decodeClaims(token.token);
    expect(claims.sub).toBe(user.communicationUserId);
    expect(claims.scp).toEqual(['voip.join']);
    expect(claims.exp - claims.iat).toBe(24 * 60 * 60);
    expect(claims.exp * 1000).toBe(token.expiresOn.getTime());
    expect(await introspect(token.token)).toEqual({
      active: true,
      sub: user.communicationUserId,
      scopes: ['voip.join'],
    });
    expect(emu.identities()).toEqual([
      {
        id: user.communicationUserId,
        createdAt: expect.any(String) as unknown,
        deleted: false,
        tokensIssued: 1,
      },
    ]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUser: 1, issueAccessToken: 1 });
  });

  it('revokes earlier tokens but not a token issued after the revocation', async () => {
    const client = sdk();
    const { user, token } = await client.createUserAndToken(['chat']);
    await client.revokeTokens(user);
    const fresh = await client.getToken(user, ['chat']);
    expect(await introspect(token)).toEqual({
      active: false,
      reason: 'revoked',
      sub: user.communicationUserId,
      scopes: ['chat'],
    });
    expect(await introspect(fresh.token)).toEqual({
      active: true,
      sub: user.communicationUserId,
      scopes: ['chat'],
    });
    const [identity] = emu.identities();
    expect(identity?.revokedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(identity?.tokensIssued).toBe(2);
  });

  it('answers 401 IdentityNotOwned for an identity of another resource, as ACS does', async () => {
    // The identity the ACS SDK's own error-case tests use: a well-formed id of another resource.
    const foreign = {
      communicationUserId:
        '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000',
    };
    const notOwned = acsError(
      'IdentityNotOwned',
      "Provided identity doesn't belong to the resource.",
    );
    const client = sdk();
    for (const attempt of [
      client.getToken(foreign, ['chat', 'voip']),
      client.revokeTokens(foreign),
      client.deleteUser(foreign),
    ]) {
      const err = await failure(attempt);
      expect([err.statusCode, err.code, err.details]).toEqual([401, 'IdentityNotOwned', notOwned]);
    }
    expect(emu.identities()).toEqual([]);
  });

  it('embeds its resource id in every identity it creates', async () => {
    const { user } = await sdk().createUserAndToken(['chat']);
    expect(user.communicationUserId.startsWith(`8:acs:${RESOURCE_ID}_`)).toBe(true);
    expect(emu.resourceId).toBe(RESOURCE_ID);
  });

  it('forgets a deleted user: later calls get 404 with the ACS error body', async () => {
    const client = sdk();
    const { user, token } = await client.createUserAndToken(['chat']);
    await client.deleteUser(user);
    const id = user.communicationUserId;
    const notFound = acsError('IdentityNotFound', `Identity '${id}' was not found.`);

    const issue = await failure(client.getToken(user, ['chat']));
    expect(issue.statusCode).toBe(404);
    expect(issue.details).toEqual(notFound);
    const revoke = await failure(client.revokeTokens(user));
    expect([revoke.statusCode, revoke.details]).toEqual([404, notFound]);
    const remove = await failure(client.deleteUser(user));
    expect([remove.statusCode, remove.details]).toEqual([404, notFound]);

    expect(await introspect(token)).toEqual({
      active: false,
      reason: 'deleted',
      sub: id,
      scopes: ['chat'],
    });
    expect(emu.identities().map((i) => [i.id, i.deleted])).toEqual([[id, true]]);
  });

  it('refuses every Teams token when no issuer stands in for Entra ID', async () => {
    // The exchange itself, against the local issuer, is in tests/integration/teamsExchange.test.ts.
    const err = await failure(
      sdk().getTokenForTeamsUser({
        teamsUserAadToken: 'aad-token',
        clientId: TEAMS_APP_ID,
        userObjectId: TEAMS_USER_ID,
      }),
    );
    expect([err.statusCode, err.details]).toEqual([
      401,
      acsError('InvalidAccessToken', 'Provided access token is not valid.'),
    ]);
    expect(emu.identities()).toEqual([]);
  });

  it('counts every operation exactly', async () => {
    const client = sdk();
    const a = await client.createUser();
    const b = await client.createUser();
    await client.createUserAndToken(['chat']);
    await client.getToken(a, ['chat']);
    await client.getToken(b, ['voip']);
    await client.getToken(b, ['chat', 'voip']);
    await client.revokeTokens(a);
    await client.deleteUser(b);
    await failure(client.getToken(b, ['chat']));
    await failure(
      client.getTokenForTeamsUser({
        teamsUserAadToken: 't',
        clientId: TEAMS_APP_ID,
        userObjectId: TEAMS_USER_ID,
      }),
    );
    expect(emu.counts()).toEqual({
      createUser: 2,
      createUserAndToken: 1,
      issueAccessToken: 4,
      revokeAccessTokens: 1,
      deleteIdentity: 1,
      exchangeTeamsToken: 1,
      rejected: 0,
    });
  });
});

describe('ACS emulator validation', () => {
  const scopeMessage = (scope: string): string =>
    `Scope "${scope}" is not valid; use chat, voip, chat.join, chat.join.limited, voip.join.`;
  /** ACS's ValidationError, which names the field it is about in `target`. */
  const fieldError = (message: string, target: string) => ({
    error: { code: 'ValidationError', message, target },
  });

  it.each([
    // As recorded: ..._error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_without_any_scopes.json
    ['an empty scope list', [], 'Invalid scopes - Scopes field is required.'],
    ['an unknown scope', ['chat', 'admin'], scopeMessage('admin')],
    ['a repeated scope', ['chat', 'chat'], "Scope 'chat' is listed more than once."],
  ])('returns 400 for %s, with target scopes', async (_name, scopes, message) => {
    const client = sdk();
    const user = await client.createUser();
    const err = await failure(client.getToken(user, scopes as never));
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual(fieldError(message, 'scopes'));
  });

  it.each([59, 1441])(
    'returns 400 for a token lifetime of %i minutes, with target ExpiresInMinutes',
    async (minutes) => {
      // As recorded: ..._error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_with_{min,max}_invalid_expiration.json
      const expected = fieldError(
        `ExpiresInMinutes value ${minutes} is invalid.`,
        'ExpiresInMinutes',
      );
      const client = sdk();
      const user = await client.createUser();
      const err = await failure(
        client.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes }),
      );
      expect(err.statusCode).toBe(400);
      expect(err.details).toEqual(expected);
      const both = await failure(
        client.createUserAndToken(['chat'], { tokenExpiresInMinutes: minutes }),
      );
      expect([both.statusCode, both.details]).toEqual([400, expected]);
    },
  );

  it('labels 2xx JSON with charset=utf-8 and errors without, as ACS does', async () => {
    // recording_successfully_gets_a_token_with_max_valid_custom_expiration.json (201, 200) and
    // the error-case recordings (400).
    const created = await signedFetch('POST', `/identities?${API}`, '{}');
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const { identity } = (await created.json()) as { identity: { id: string } };
    const issued = await signedFetch(
      'POST',
      `/identities/${encodeURIComponent(identity.id)}/:issueAccessToken?${API}`,
      JSON.stringify({ scopes: ['chat'], expiresInMinutes: 1440 }),
    );
    expect(issued.status).toBe(200);
    expect(issued.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await issued.json()) as { expiresOn: string; token: string };
    // Seven fractional digits and +00:00, as in the same recording ("2022-09-08T13:34:55.6279516+00:00").
    expect(body.expiresOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    expect(Date.parse(body.expiresOn)).toBe(decodeClaims(body.token).exp * 1000);
    const refused = await signedFetch(
      'POST',
      `/identities/${encodeURIComponent(identity.id)}/:issueAccessToken?${API}`,
      JSON.stringify({ scopes: [] }),
    );
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/json');
  });

  it('accepts the lifetime bounds 60 and 1440', async () => {
    const client = sdk();
    const user = await client.createUser();
    for (const minutes of [60, 1440]) {
      const token = await client.getToken(user, ['chat'], { tokenExpiresInMinutes: minutes });
      const claims = decodeClaims(token.token);
      expect(claims.exp - claims.iat).toBe(minutes * 60);
    }
  });

  it.each([
    ['an empty appId', { token: 't', appId: '', userId: TEAMS_USER_ID }, 'AppId', 'appId'],
    [
      'a userId that is no GUID',
      { token: 't', appId: TEAMS_APP_ID, userId: 'u' },
      'UserId',
      'userId',
    ],
  ])(
    'returns 400 ValidationError for a Teams exchange with %s',
    async (_name, body, name, target) => {
      // As ACS answers in the SDK's recorded sessions (get_token_for_teams_user_playbacklive).
      const res = await signedFetch(
        'POST',
        `/teamsUser/:exchangeAccessToken?${API}`,
        JSON.stringify(body),
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: 'ValidationError', message: `Provided ${name} has invalid format.`, target },
      });
    },
  );

  it.each([
    ['missing', '', "The query parameter 'api-version' is required; use 2023-10-01."],
    [
      'unsupported',
      '?api-version=2021-03-07',
      "The api-version '2021-03-07' is not supported; use 2023-10-01.",
    ],
  ])('returns 400 when the api-version is %s', async (_name, query, message) => {
    const res = await signedFetch('POST', `/identities${query}`, '{}');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(acsError('UnsupportedApiVersion', message));
    expect(emu.identities()).toEqual([]);
  });

  it('returns 400 for a body that is not JSON', async () => {
    const res = await signedFetch('POST', `/identities?${API}`, '{"createTokenWithScopes":');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      acsError('InvalidRequestBody', 'The request body is not valid JSON.'),
    );
  });

  it('returns 404 for an unknown path and 405 for a wrong method', async () => {
    const unknown = await signedFetch('POST', `/users?${API}`, '{}');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual(acsError('NotFound', "No resource at '/users'."));

    const wrong = await signedFetch('GET', `/identities?${API}`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toEqual(
      acsError('MethodNotAllowed', 'Method GET is not allowed here.'),
    );
  });

  it('returns 413 for a body over 1 MiB', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const res = await signedFetch('POST', `/identities?${API}`, big);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(
      acsError('PayloadTooLarge', 'The request body exceeds 1048576 bytes.'),
    );
  });
});

describe('ACS emulator authentication', () => {
  it('accepts a request signed by hand with the documented scheme', async () => {
    const res = await signedFetch('POST', `/identities?${API}`, '{}');
    expect(res.status).toBe(201);
    const body = (await res.json()) as { identity: { id: string } };
    expect(body.identity.id).toMatch(ID_PATTERN);
  });

  it('accepts a date 14 minutes off', async () => {
    const date = new Date(Date.now() - 14 * 60 * 1000);
    expect((await signedFetch('POST', `/identities?${API}`, '{}', { date })).status).toBe(201);
  });

  it('rejects a client with the wrong access key with 401 and counts it as rejected', async () => {
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const err = await failure(sdk(`endpoint=${emu.endpoint};accesskey=${wrongKey}`).createUser());
    expect(err.statusCode).toBe(401);
    expect(err.details).toEqual(
      acsError('Denied', 'Denied by the resource provider: the HMAC signature does not match.'),
    );
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, rejected: 1 });
    expect(emu.identities()).toEqual([]);
  });

  it.each([
    [
      'a body that does not match its hash',
      { hashOf: '{}' },
      'x-ms-content-sha256 does not match the request body.',
    ],
    [
      'a date 16 minutes old',
      { date: new Date(Date.now() - 16 * 60 * 1000) },
      'x-ms-date is more than 15 minutes away from the server clock.',
    ],
    [
      'a bearer token',
      { authorization: 'Bearer abc' },
      'bearer tokens are not supported by the emulator; sign with the access key.',
    ],
    [
      'other signed headers',
      { authorization: 'HMAC-SHA256 SignedHeaders=host&Signature=abc' },
      "SignedHeaders must be 'x-ms-date;host;x-ms-content-sha256'.",
    ],
  ])('rejects %s with 401', async (_name, opts, reason) => {
    const body = JSON.stringify({ createTokenWithScopes: ['chat'] });
    const res = await signedFetch('POST', `/identities?${API}`, body, opts);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(
      acsError('Denied', `Denied by the resource provider: ${reason}`),
    );
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, rejected: 1 });
    expect(emu.identities()).toEqual([]);
  });

  it('rejects a request without an Authorization header', async () => {
    const res = await fetch(`${emu.url}/identities?${API}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(
      acsError('Denied', 'Denied by the resource provider: the Authorization header is missing.'),
    );
  });
});

describe('ACS emulator faults', () => {
  it('answers with the injected status, the ACS error body and Retry-After', async () => {
    emu.setFaults({ errorRate: 1, errorStatus: 429, retryAfterSeconds: 7 });
    const err = await failure(sdk().createUser());
    expect(err.statusCode).toBe(429);
    expect(err.response?.headers.get('retry-after')).toBe('7');
    expect(err.details).toEqual(
      acsError('TooManyRequests', 'Fault injected by the ACS emulator (status 429).'),
    );
    expect(emu.identities()).toEqual([]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUser: 1 });
  });

  it('sends no Retry-After with injected statuses other than 429 and 503', async () => {
    emu.setFaults({ errorRate: 1, errorStatus: 500 });
    const err = await failure(sdk().createUser());
    expect(err.statusCode).toBe(500);
    expect(err.response?.headers.get('retry-after')).toBeUndefined();
    expect(err.details).toEqual(
      acsError('InjectedFault', 'Fault injected by the ACS emulator (status 500).'),
    );
  });

  it('drops the connection without creating an identity', async () => {
    emu.setFaults({ dropRate: 1 });
    const err = await failure(sdk().createUserAndToken(['chat']));
    expect(err.statusCode).toBeUndefined();
    expect(err.code).toBe('ECONNRESET');
    expect(emu.identities()).toEqual([]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUserAndToken: 1 });
  });

  it('drops the connection after creating the identity', async () => {
    emu.setFaults({ dropAfterCommitRate: 1 });
    const err = await failure(sdk().createUser());
    expect(err.code).toBe('ECONNRESET');
    const identities = emu.identities();
    expect(identities).toHaveLength(1);
    expect(identities[0]?.id).toMatch(ID_PATTERN);
  });

  it('answers with the success status and a body that is not JSON', async () => {
    emu.setFaults({ malformedRate: 1 });
    const err = await failure(sdk().createUser());
    expect([err.statusCode, err.code]).toEqual([201, 'PARSE_ERROR']);
    expect(emu.identities()).toHaveLength(1);
  });

  it('adds latency to every operation', async () => {
    const client = sdk();
    const user = await client.createUser();
    emu.setFaults({ latencyMs: 200 });
    for (const call of [() => client.createUser(), () => client.getToken(user, ['chat'])]) {
      const started = Date.now();
      await call();
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    }
  });

  it('applies faults only to the listed operations', async () => {
    const client = sdk();
    // A latency longer than the test may run: were it applied to createUser, the test would fail.
    emu.setFaults({ latencyMs: 10 * 60_000, operations: ['issueAccessToken'] });
    const user = await client.createUser();
    emu.setFaults({ latencyMs: 0, errorRate: 1 });
    const err = await failure(client.getToken(user, ['chat']));
    expect(err.statusCode).toBe(503);
    expect(err.response?.headers.get('retry-after')).toBe('1');
    expect(emu.identities()[0]?.tokensIssued).toBe(0);
  });

  it('does not fault requests that fail authentication', async () => {
    emu.setFaults({ dropRate: 1 });
    const res = await signedFetch('POST', `/identities?${API}`, '{}', { hashOf: 'x' });
    expect(res.status).toBe(401);
  });

  it('rejects invalid fault settings from code', () => {
    expect(() => emu.setFaults({ errorRate: 1.5 })).toThrow(
      "'errorRate' must be a number between 0 and 1.",
    );
  });
});

describe('ACS emulator admin surface', () => {
  it('reports stats', async () => {
    const client = sdk();
    const user = await client.createUser();
    await client.createUserAndToken(['chat']);
    await client.deleteUser(user);
    const res = await admin('GET', '/admin/stats');
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { quotas: Record<string, { admitted: number }> };
    expect(stats).toMatchObject({
      calls: { ...ZERO_COUNTS, createUser: 1, createUserAndToken: 1, deleteIdentity: 1 },
      identities: { total: 2, active: 1, deleted: 1 },
    });
    expect(Object.keys(stats).sort()).toEqual(['calls', 'identities', 'quotas']);
    expect(stats.quotas.createUser?.admitted).toBe(1);
  });

  it('lists identities', async () => {
    const user = await sdk().createUser();
    const res = await admin('GET', '/admin/identities');
    expect(await res.json()).toEqual([
      {
        id: user.communicationUserId,
        createdAt: expect.any(String) as unknown,
        deleted: false,
        tokensIssued: 0,
      },
    ]);
  });

  it('resets counters and faults, and identities only when asked', async () => {
    await sdk().createUser();
    emu.setFaults({ latencyMs: 10 });
    const keep = await admin('POST', '/admin/reset');
    expect(keep.status).toBe(204);
    expect(emu.counts()).toEqual(ZERO_COUNTS);
    expect(emu.faults()).toEqual(DEFAULT_FAULTS);
    expect(emu.identities()).toHaveLength(1);
    expect((await admin('POST', '/admin/reset', { identities: true })).status).toBe(204);
    expect(emu.identities()).toEqual([]);
  });

  it('reads and merges faults', async () => {
    const put = await admin('PUT', '/admin/faults', {
      errorRate: 0.25,
      errorStatus: 429,
      operations: ['createUser'],
    });
    expect(put.status).toBe(200);
    const merged = {
      ...DEFAULT_FAULTS,
      errorRate: 0.25,
      errorStatus: 429,
      operations: ['createUser'],
    };
    expect(await put.json()).toEqual(merged);
    const second = await admin('PUT', '/admin/faults', { latencyMs: 5, operations: null });
    expect(await second.json()).toEqual({
      ...DEFAULT_FAULTS,
      errorRate: 0.25,
      errorStatus: 429,
      latencyMs: 5,
    });
    const get = await admin('GET', '/admin/faults');
    expect(await get.json()).toEqual(emu.faults());
  });

  it.each([
    [{ errorRate: 1.5 }, "'errorRate' must be a number between 0 and 1."],
    [{ dropRate: -1 }, "'dropRate' must be a number between 0 and 1."],
    [{ errorStatus: 600 }, "'errorStatus' must be an integer HTTP status between 100 and 599."],
    [{ errorStatus: 99 }, "'errorStatus' must be an integer HTTP status between 100 and 599."],
    [{ latencyMs: -1 }, "'latencyMs' must be a number >= 0."],
    [{ retryAfterSeconds: 1.5 }, "'retryAfterSeconds' must be an integer >= 0."],
    [{ errorRat: 1 }, "Unknown fault setting 'errorRat'."],
    [
      { operations: ['createUser', 'nope'] },
      "'operations' must be an array of: createUser, createUserAndToken, issueAccessToken, revokeAccessTokens, deleteIdentity, exchangeTeamsToken.",
    ],
    [[], 'The fault configuration must be a JSON object.'],
  ])('rejects the fault patch %j with 400', async (patch, message) => {
    const res = await admin('PUT', '/admin/faults', patch);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(acsError('ValidationError', message));
    expect(emu.faults()).toEqual(DEFAULT_FAULTS);
  });

  it('introspects garbage as invalid and requires a token', async () => {
    expect(await introspect('abc.def.ghi')).toEqual({ active: false, reason: 'invalid' });
    const res = await admin('POST', '/admin/introspect', {});
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(
      acsError('ValidationError', "'token' is required and must be a non-empty string."),
    );
  });

  it('publishes one RS256 signing key', async () => {
    const res = await fetch(emu.jwksUrl);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toEqual([
      {
        kty: 'RSA',
        n: expect.any(String) as unknown,
        e: 'AQAB',
        kid: expect.any(String) as unknown,
        alg: 'RS256',
        use: 'sig',
      },
    ]);
  });

  it('exposes a connection string made of the endpoint and the access key', () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.endpoint).toBe(`${emu.url}/`);
    expect(emu.connectionString).toBe(`endpoint=${emu.url}/;accesskey=${emu.accessKey}`);
    expect(Buffer.from(emu.accessKey, 'base64')).toHaveLength(32);
  });
});

describe('ACS emulator lifecycle', () => {
  it('closes promptly with keep-alive connections and requests in flight', async () => {
    const other = await startEmulator();
    const client = sdk(other.connectionString);
    await client.createUser(); // leaves a keep-alive socket open
    // In flight for longer than the test may run: close() must not wait for it.
    other.setFaults({ latencyMs: 10 * 60_000 });
    const pending = failure(client.createUser());
    await eventually('the second request to reach the emulator', () => {
      return other.counts().createUser === 2;
    });
    await other.close();
    expect((await pending).code).toBe('ECONNRESET');
    expect(other.identities()).toHaveLength(1);
  });

  it('derives a stable resource id from its access key', async () => {
    const accessKey = Buffer.alloc(32, 7).toString('base64');
    const first = await startEmulator({ accessKey });
    const again = await startEmulator({ accessKey });
    const other = await startEmulator({ accessKey: Buffer.alloc(32, 8).toString('base64') });
    try {
      expect(first.resourceId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(again.resourceId).toBe(first.resourceId);
      expect(other.resourceId).not.toBe(first.resourceId);
    } finally {
      await Promise.all([first.close(), again.close(), other.close()]);
    }
  });

  it('refuses an access key that is not base64', async () => {
    await expect(startEmulator({ accessKey: 'not base64!' })).rejects.toThrow(
      'The access key must be a non-empty, standard base64 string.',
    );
  });
});
