import { CommunicationIdentityClient } from '@azure/communication-identity';
import { randomBytes } from 'node:crypto';
import { call, jwtClaims, type Answer } from '../support/http';
import { verifyWithJwks } from '../support/jwt';
import {
  forgeTokens,
  issuerOfHost,
  mintToken,
  spawnIssuer,
  spawnDevScript,
  type IssuerProcess,
} from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

const APP_ID = '11111111-aaaa-4bbb-8ccc-222222222222';
const USER_ID = '33333333-dddd-4eee-8fff-444444444444';
const OTHER_ID = '55555555-dddd-4eee-8fff-444444444444';
const ACS_AUDIENCE = 'https://auth.msft.communication.azure.com';
const TEAMS_SCOPES = 'Teams.ManageCalls Teams.ManageChats';

/** An Entra-like access token of the Teams user, from `issuer`, with `override` applied. */
function teamsToken(issuer: string, override: Record<string, unknown> = {}): Promise<string> {
  return mintToken(issuer, {
    sub: 'teams-user',
    oid: USER_ID,
    appid: APP_ID,
    aud: ACS_AUDIENCE,
    scp: TEAMS_SCOPES,
    ...override,
  });
}

interface RestErrorShape {
  statusCode?: number;
  details?: unknown;
}

describe('ACS emulator: the Teams-user exchange, as ACS checks it', () => {
  let issuer: IssuerProcess;
  let emulator: IssuerProcess & { output(): string };
  let client: CommunicationIdentityClient;

  beforeAll(async () => {
    issuer = await spawnIssuer();
    const accessKey = randomBytes(32).toString('base64');
    emulator = await spawnDevScript(
      'emulator/main.js',
      {
        ACS_EMULATOR_PORT: '0',
        ACS_EMULATOR_ACCESS_KEY: accessKey,
        ACS_EMULATOR_TEAMS_ISSUER: issuer.url,
        ACS_EMULATOR_STATE: 'fresh',
      },
      /ACS Identity emulator listening on (\S+)/,
    );
    client = new CommunicationIdentityClient(`endpoint=${emulator.url};accesskey=${accessKey}`, {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
  });
  afterAll(async () => {
    await Promise.all([emulator?.stop(), issuer?.stop()]);
  });

  const exchange = (teamsUserAadToken: string, clientId = APP_ID, userObjectId = USER_ID) =>
    client.getTokenForTeamsUser({ teamsUserAadToken, clientId, userObjectId });

  async function refusal(promise: Promise<unknown>): Promise<[number | undefined, unknown]> {
    try {
      await promise;
    } catch (err) {
      const e = err as RestErrorShape;
      return [e.statusCode, e.details];
    }
    throw new Error('the exchange was expected to fail');
  }

  it('answers an ACS token of 8:orgid:<oid> expiring with the Entra token', async () => {
    const entra = await teamsToken(issuer.url, { expiresInSeconds: 1800 });
    const result = await exchange(entra);
    const jwksUrl = /JWKS: (\S+)/.exec(emulator.output())?.[1] ?? '';
    const claims = await verifyWithJwks(result.token, jwksUrl);
    expect(claims).toMatchObject({ sub: `8:orgid:${USER_ID}`, skypeid: `orgid:${USER_ID}` });
    expect(claims.exp).toBe(jwtClaims(entra).exp);
    expect(result.expiresOn.getTime()).toBe((claims.exp as number) * 1000);
  });

  it('caps the ACS token at 24 hours when the Entra token lives longer', async () => {
    const result = await exchange(await teamsToken(issuer.url, { expiresInSeconds: 3 * 86_400 }));
    const claims = jwtClaims(result.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(86_400);
  });

  const invalidToken = [
    401,
    { error: { code: 'InvalidAccessToken', message: 'Provided access token is not valid.' } },
  ];

  it.each([
    ['another audience', { aud: 'api://elsewhere' }],
    ['no Teams scopes', { scp: 'User.Read' }],
    ['only one of the Teams scopes', { scp: 'Teams.ManageCalls' }],
    ['an expired token', { expiresInSeconds: -5 }],
    ['another issuer', { iss: 'https://sts.windows.net/other-tenant/' }],
  ])('401 InvalidAccessToken for %s', async (_name, override) => {
    expect(await refusal(exchange(await teamsToken(issuer.url, override)))).toEqual(invalidToken);
  });

  it('401 InvalidAccessToken for a token that is not the issuer’s', async () => {
    const { otherKeySameKid } = await forgeTokens(
      issuer.url,
      { iss: issuer.url, oid: USER_ID, appid: APP_ID, aud: ACS_AUDIENCE, scp: TEAMS_SCOPES },
      ['otherKeySameKid'],
    );
    expect(await refusal(exchange(otherKeySameKid))).toEqual(invalidToken);
    expect(await refusal(exchange('not-a-jwt'))).toEqual(invalidToken);
    expect(await refusal(exchange(''))).toEqual(invalidToken);
  });

  it('400 ValidationError naming appId or userId when they are not the token’s', async () => {
    const entra = await teamsToken(issuer.url);
    expect(await refusal(exchange(entra, OTHER_ID))).toEqual([
      400,
      {
        error: {
          code: 'ValidationError',
          message: "Provided AppId doesn't match the token's appid claim.",
          target: 'appId',
        },
      },
    ]);
    expect(await refusal(exchange(entra, APP_ID, OTHER_ID))).toEqual([
      400,
      {
        error: {
          code: 'ValidationError',
          message: "Provided UserId doesn't match the token's oid claim.",
          target: 'userId',
        },
      },
    ]);
  });
});

describe('POST /api/token/teams (key mode, npm start wiring)', () => {
  let host: LocalHostProcess;
  let issuer: string;

  beforeAll(async () => {
    // No ACS settings: the host starts its emulator, trusting its local issuer for Teams users;
    // a throw-away one, since the developer's .dev/ state is not the tests' to hold.
    host = await startLocalHost({ ACS_EMULATOR_PORT: '0', ACS_EMULATOR_STATE: 'fresh' });
    issuer = issuerOfHost(host.output());
  });
  afterAll(async () => {
    await host?.stop();
  });

  const exchange = (
    json: unknown,
    headers: Record<string, string> = { 'x-functions-key': host.key },
  ) => call(`${host.url}/api/token/teams`, { method: 'POST', headers, json });

  function expectProblem(answer: Answer, status: number, code: string): void {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.json).toMatchObject({ status, code, instance: '/api/token/teams' });
  }

  it('exchanges a Teams user token for an ACS token and its expiry, nothing else', async () => {
    const entra = await teamsToken(issuer);
    const answer = await exchange({ token: entra, appId: APP_ID, userId: USER_ID });
    expect(answer.status).toBe(200);
    const body = answer.json as { token: string; expiresOn: string };
    expect(Object.keys(body).sort()).toEqual(['expiresOn', 'token']);
    expect(jwtClaims(body.token)).toMatchObject({ sub: `8:orgid:${USER_ID}` });
    expect(Date.parse(body.expiresOn)).toBe((jwtClaims(entra).exp as number) * 1000);
  });

  it('answers 400 teams_token_mismatch naming the field for another user or app', async () => {
    const entra = await teamsToken(issuer);
    const user = await exchange({ token: entra, appId: APP_ID, userId: OTHER_ID });
    expectProblem(user, 400, 'teams_token_mismatch');
    expect((user.json as { errors: unknown }).errors).toEqual([
      { field: 'userId', message: 'does not match the token' },
    ]);
    const app = await exchange({ token: entra, appId: OTHER_ID, userId: USER_ID });
    expectProblem(app, 400, 'teams_token_mismatch');
    expect((app.json as { errors: unknown }).errors).toEqual([
      { field: 'appId', message: 'does not match the token' },
    ]);
  });

  it.each([
    ['another audience', { aud: 'api://elsewhere' }],
    ['no Teams scopes', { scp: 'User.Read' }],
    ['an expired token', { expiresInSeconds: -5 }],
  ])('answers 401 teams_token_rejected for %s', async (_name, override) => {
    const answer = await exchange({
      token: await teamsToken(issuer, override),
      appId: APP_ID,
      userId: USER_ID,
    });
    expectProblem(answer, 401, 'teams_token_rejected');
  });

  it('answers 400 invalid_request naming each bad field, before calling ACS', async () => {
    const answer = await exchange({ token: 'not-a-jwt', appId: 'x', userId: 'y', extra: 1 });
    expectProblem(answer, 400, 'invalid_request');
    expect((answer.json as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'appId',
      'userId',
      'extra',
    ]);
  });

  it('needs the function key', async () => {
    const entra = await teamsToken(issuer);
    const answer = await exchange({ token: entra, appId: APP_ID, userId: USER_ID }, {});
    expect(answer.status).toBe(401);
  });

  it('passes ACS throttling on as 429 with Retry-After', async () => {
    const emulatorUrl = /ACS: emulator at (\S+)/.exec(host.output())?.[1] ?? '';
    const faults = await call(`${emulatorUrl}/admin/faults`, {
      method: 'PUT',
      json: {
        errorRate: 1,
        errorStatus: 429,
        retryAfterSeconds: 7,
        operations: ['exchangeTeamsToken'],
      },
    });
    expect(faults.status).toBe(200);
    try {
      const entra = await teamsToken(issuer);
      const answer = await exchange({ token: entra, appId: APP_ID, userId: USER_ID });
      expectProblem(answer, 429, 'upstream_throttled');
      expect(answer.headers.get('retry-after')).toBe('7');
    } finally {
      await call(`${emulatorUrl}/admin/faults`, { method: 'PUT', json: { errorRate: 0 } });
    }
  });

  it('logs the exchange without the token', () => {
    expect(host.output()).toContain('"operation":"teamsToken"');
    // stop() audits the whole log for JWTs and keys (tests/support/localHost.ts).
  });
});
