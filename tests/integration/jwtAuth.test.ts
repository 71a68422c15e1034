import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { forgeTokens, issuerOfHost, mintToken } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { pollUntil } from '../support/poll';

const AUDIENCE = 'api://acs-token-service';
const TOKEN_POLICY = JSON.stringify({
  roles: {
    guest: { scopes: ['voip.join'], maxExpiryMinutes: 60 },
    member: { scopes: ['chat', 'voip'], defaultScopes: ['voip'] },
  },
});

let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess;
let issuer: string;
let run = 0;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'jwt',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    TOKEN_POLICY,
  });
  issuer = issuerOfHost(host.output());
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

const user = (label: string) => `${label}-${Date.now()}-${++run}`;

function askToken(
  token: string | undefined,
  json: unknown = { scopes: ['voip'] },
  query = '',
): Promise<Answer> {
  return call(`${host.url}/api/token${query}`, {
    method: 'POST',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    json,
  });
}

/** The whole answer to a refused bearer token: RFC 6750 challenge plus our problem body. */
function expectInvalidToken(answer: Answer, detail: string): void {
  expect(answer.status).toBe(401);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.headers.get('www-authenticate')).toBe(
    `Bearer error="invalid_token", error_description="${detail}"`,
  );
  expect(answer.json).toEqual({
    type: 'urn:acs-token-service:problem:invalid_token',
    title: 'The bearer token is not valid',
    status: 401,
    detail,
    code: 'invalid_token',
    instance: '/api/token',
    invocationId: expect.any(String) as unknown,
  });
}

/**
 * The request log record of an answer, by its invocation id. The host's stdout reaches this
 * process a little after the answer does, so it is polled for.
 */
async function logRecordOf(answer: Answer): Promise<Record<string, unknown>> {
  const id = (answer.json as { invocationId: string }).invocationId;
  const line = await pollUntil(
    () =>
      host
        .output()
        .split('\n')
        .find((l) => l.includes('"event":"request"') && l.includes(id)),
    (found) => found !== undefined,
    10_000,
    50,
  );
  if (!line) throw new Error(`no request record for ${id}`);
  return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
}

const claimsFor = (sub: string) => ({ iss: issuer, sub, aud: AUDIENCE, roles: ['member'] });

describe('AUTH_MODE=jwt over real HTTP', () => {
  it('issues a token to a valid bearer token, one ACS identity per iss + sub', async () => {
    const alice = user('alice');
    const first = await askToken(await mintToken(issuer, { sub: alice, roles: ['member'] }));
    expect(first.status).toBe(200);
    const again = await askToken(await mintToken(issuer, { sub: alice, roles: ['member'] }));
    expect(again.status).toBe(200);
    const bob = await askToken(await mintToken(issuer, { sub: user('bob'), roles: ['member'] }));
    type Issued = { user: { communicationUserId: string } };
    const idOf = (a: Answer) => (a.json as Issued).user.communicationUserId;
    expect(idOf(again)).toBe(idOf(first));
    expect(idOf(bob)).not.toBe(idOf(first));
  });

  it('feeds the roles claim to TOKEN_POLICY as Easy Auth roles are', async () => {
    const guest = await mintToken(issuer, { sub: user('guest'), roles: ['guest'] });
    expect((await askToken(guest, { scopes: ['voip.join'] })).status).toBe(200);
    const refused = await askToken(guest, { scopes: ['chat'] });
    expect(refused.status).toBe(403);
    expect((refused.json as { code: string }).code).toBe('scope_not_allowed');
    const nobody = await mintToken(issuer, { sub: user('norole') });
    expect((await askToken(nobody)).status).toBe(403);
  });

  it('challenges a request without credentials, without an error code (RFC 6750 §3.1)', async () => {
    const answer = await askToken(undefined);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect((answer.json as { code: string }).code).toBe('unauthenticated');
  });

  it('ignores a function key: jwt mode takes bearer tokens only', async () => {
    const answer = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers: { 'x-functions-key': host.key },
      json: { scopes: ['voip'] },
    });
    expect(answer.status).toBe(401);
  });

  it('guards POST /api/token/teams with the bearer token too', async () => {
    const body = {
      token: 'teams-user-entra-token',
      appId: '11111111-aaaa-4bbb-8ccc-222222222222',
      userId: '33333333-dddd-4eee-8fff-444444444444',
    };
    const url = `${host.url}/api/token/teams`;
    const anonymous = await call(url, { method: 'POST', json: body });
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    expect(emulator.counts().exchangeTeamsToken).toBe(0);
    const bearer = await mintToken(issuer, { sub: user('teams'), roles: ['member'] });
    // Admitted: ACS (this emulator trusts no Entra stand-in) is asked, and refuses the Teams token.
    const admitted = await call(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      json: body,
    });
    expect([admitted.status, (admitted.json as { code: string }).code]).toEqual([
      401,
      'teams_token_rejected',
    ]);
    expect(admitted.headers.get('www-authenticate')).toBeNull();
    expect(emulator.counts().exchangeTeamsToken).toBe(1);
  });

  describe('refuses with 401 invalid_token and logs why, never the token', () => {
    it.each([
      ['none', 'algorithm not allowed', 'The token is not signed with an accepted algorithm.'],
      [
        'hs256PublicKeyPem',
        'algorithm not allowed',
        'The token is not signed with an accepted algorithm.',
      ],
      [
        'hs256PublicKeyJwk',
        'algorithm not allowed',
        'The token is not signed with an accepted algorithm.',
      ],
      ['otherKeySameKid', 'bad signature', 'The token signature does not verify.'],
      // jose ignores the embedded key and tries the issuer's only key.
      ['embeddedJwk', 'bad signature', 'The token signature does not verify.'],
    ] as const)('a forged token (%s)', async (kind, reason, detail) => {
      const forged = await forgeTokens(issuer, claimsFor(user(kind)), [kind]);
      const answer = await askToken(forged[kind]);
      expectInvalidToken(answer, detail);
      expect(await logRecordOf(answer)).toMatchObject({ status: 401, authFailure: reason });
    });

    it.each([
      [
        'another issuer',
        { iss: 'https://login.example.com/other-tenant/v2.0' },
        'iss check failed',
        'The token comes from another issuer.',
      ],
      [
        'another audience',
        { aud: 'api://someone-else' },
        'aud check failed',
        'The token is meant for another audience.',
      ],
      [
        'expired beyond the skew',
        { expiresInSeconds: -61 - 5 },
        'expired',
        'The token has expired.',
      ],
      [
        'nbf beyond the skew',
        { notBeforeInSeconds: 61 + 5 },
        'nbf check failed',
        'The token is not valid yet.',
      ],
      ['no sub', { sub: undefined }, 'sub missing', 'The token has no sub claim.'],
    ])('a token from the right key with %s', async (_name, override, reason, detail) => {
      const answer = await askToken(
        await mintToken(issuer, { sub: user('claims'), roles: ['member'], ...override }),
      );
      expectInvalidToken(answer, detail);
      expect(await logRecordOf(answer)).toMatchObject({ status: 401, authFailure: reason });
    });

    it('accepts expiry and nbf inside the 60 s clock skew', async () => {
      for (const override of [{ expiresInSeconds: -20 }, { notBeforeInSeconds: 20 }]) {
        const token = await mintToken(issuer, {
          sub: user('skew'),
          roles: ['member'],
          ...override,
        });
        expect((await askToken(token)).status).toBe(200);
      }
    });

    it.each([
      ['not a JWT', 'not-a-jwt', 'malformed'],
      ['three garbage segments', 'abc.def.ghi', 'malformed'],
      ['a bad b64token', 'a b"c', 'malformed authorization header'],
    ])('a malformed token (%s)', async (_name, token, reason) => {
      const answer = await askToken(token);
      expectInvalidToken(answer, 'The token is not a well-formed JWT.');
      expect(await logRecordOf(answer)).toMatchObject({ authFailure: reason });
    });

    it('an oversized header, before anything parses it', async () => {
      const valid = await mintToken(issuer, { sub: user('big'), roles: ['member'] });
      const header = Buffer.from(
        JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: ['A'.repeat(4000)] }),
      ).toString('base64url');
      const [, payload, signature] = valid.split('.');
      const answer = await askToken(`${header}.${payload}.${signature}`);
      expectInvalidToken(answer, 'The token header is too large.');
      expect(await logRecordOf(answer)).toMatchObject({ authFailure: 'oversized header' });
    });

    it('a token in the query string, even a valid one and even next to a header', async () => {
      const valid = await mintToken(issuer, { sub: user('query'), roles: ['member'] });
      const detail =
        'Tokens are not accepted in the query string; send Authorization: Bearer <token>.';
      expectInvalidToken(await askToken(undefined, undefined, `?access_token=${valid}`), detail);
      const both = await askToken(valid, undefined, `?token=${valid}`);
      expectInvalidToken(both, detail);
      expect(await logRecordOf(both)).toMatchObject({ authFailure: 'token in query string' });
    });
  });
});
