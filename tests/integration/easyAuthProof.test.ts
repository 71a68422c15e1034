import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { devLogin, postToken, uniqueUser } from '../support/easyAuthSession';
import type { Answer } from '../support/http';
import { mintToken, spawnIssuer, type IssuerProcess } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';

/*
 * easyauth mode where the platform reports Easy Auth on but may not enforce it (the case
 * docs/platform-parity.md cannot rule out on Flex Consumption), and the defence in depth against
 * it (EASY_AUTH_TOKEN_ISSUER, src/http/easyAuthProof.ts): the app asks for a token Entra ID
 * signed for the principal it is handed. Real HTTP through the local host and its Easy Auth
 * stand-in; tokens from the local issuer standing in for Entra ID.
 */

const CLIENT_ID = '00000000-0000-0000-0000-00000000c11e';

let emulator: RunningEmulator;
let azurite: TestAzurite;
let issuer: IssuerProcess;
/** Easy Auth reported on, not enforced; the app trusts the headers (the old behaviour). */
let trusting: LocalHostProcess;
/** Easy Auth reported on, not enforced; the app asks for the Entra token. */
let proving: LocalHostProcess;
/** Easy Auth enforced with its token store; the app asks for the Entra token. */
let enforced: LocalHostProcess;

beforeAll(async () => {
  [emulator, azurite, issuer] = await Promise.all([
    startEmulator({ port: 0 }),
    startTestAzurite(),
    spawnIssuer(),
  ]);
  const common = {
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    EASY_AUTH_ISSUER: issuer.url,
    EASY_AUTH_AUDIENCES: CLIENT_ID,
  };
  const proof = { EASY_AUTH_TOKEN_ISSUER: issuer.url, EASY_AUTH_TOKEN_AUDIENCE: CLIENT_ID };
  [trusting, proving, enforced] = await Promise.all([
    startLocalHost({ ...common, EASY_AUTH_ENFORCED: 'false' }),
    startLocalHost({ ...common, ...proof, EASY_AUTH_ENFORCED: 'false' }),
    startLocalHost({ ...common, ...proof, EASY_AUTH_TOKEN_STORE: 'true' }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([trusting?.stop(), proving?.stop(), enforced?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose(), issuer?.stop()]);
});

/** The headers App Service would inject for an Entra ID principal, written by a client. */
function forgedPrincipal(id: string): Record<string, string> {
  const claims = { auth_typ: 'aad', claims: [{ typ: 'name', val: id }], name_typ: 'name' };
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(claims)).toString('base64'),
    'x-ms-client-principal-id': id,
    'x-ms-client-principal-idp': 'aad',
    'x-ms-client-principal-name': id,
  };
}

const entraToken = (oid: string, claims: Record<string, unknown> = {}) =>
  mintToken(issuer.url, { sub: `sub-${oid}`, oid, aud: CLIENT_ID, ...claims });

async function logRecordOf(host: LocalHostProcess, answer: Answer) {
  const id = (answer.json as { invocationId: string }).invocationId;
  let record: Record<string, unknown> | undefined;
  await eventually(`the request record of ${id}`, () => {
    const line = host
      .output()
      .split('\n')
      .find((l) => l.includes('"event":"request"') && l.includes(id));
    record = line ? (JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>) : {};
    return line !== undefined;
  });
  return record ?? {};
}

describe('a platform that reports Easy Auth on without enforcing it', () => {
  it('without the proof, a forged principal header names anyone (the hole)', async () => {
    const answer = await postToken(
      trusting.url,
      undefined,
      { scopes: ['voip'] },
      forgedPrincipal(uniqueUser('victim')),
    );
    expect(answer.status).toBe(200);
  });

  it('with the proof, a forged principal header alone is refused', async () => {
    const answer = await postToken(
      proving.url,
      undefined,
      { scopes: ['voip'] },
      forgedPrincipal(uniqueUser('victim')),
    );
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 'unauthenticated' });
    expect(await logRecordOf(proving, answer)).toMatchObject({
      authFailure: 'easyauth proof: no platform token',
    });
  });

  it.each([
    [
      'the attacker’s own valid token',
      'platform token names another principal',
      (victim: string) => entraToken(`attacker-${victim}`),
    ],
    [
      'a token of the victim from another issuer',
      'platform token: iss check failed',
      (victim: string) => entraToken(victim, { iss: 'http://127.0.0.1:1' }),
    ],
    [
      'a token of the victim for another app',
      'platform token: aud check failed',
      (victim: string) => entraToken(victim, { aud: 'api://someone-else' }),
    ],
    [
      'an expired token of the victim',
      'platform token: expired',
      (victim: string) => entraToken(victim, { expiresInSeconds: -3600 }),
    ],
  ])('refuses a forged principal with %s', async (_label, reason, tokenFor) => {
    const victim = uniqueUser('victim');
    for (const header of ['x-ms-token-aad-id-token', 'authorization'] as const) {
      const token = await tokenFor(victim);
      const answer = await postToken(
        proving.url,
        undefined,
        { scopes: ['voip'] },
        {
          ...forgedPrincipal(victim),
          [header]: header === 'authorization' ? `Bearer ${token}` : token,
        },
      );
      expect({ header, status: answer.status }).toEqual({ header, status: 401 });
      expect(await logRecordOf(proving, answer)).toMatchObject({
        authFailure: `easyauth proof: ${reason}`,
      });
    }
  });

  it('refuses a principal of another provider, whose token it cannot check', async () => {
    const headers = { ...forgedPrincipal('someone'), 'x-ms-client-principal-idp': 'google' };
    const answer = await postToken(proving.url, undefined, { scopes: ['voip'] }, headers);
    expect(answer.status).toBe(401);
    expect(await logRecordOf(proving, answer)).toMatchObject({
      authFailure: 'easyauth proof: principal not from Entra ID',
    });
  });

  it('serves a principal whose Entra token names it (by oid)', async () => {
    const oid = uniqueUser('oid');
    const answer = await postToken(
      proving.url,
      undefined,
      { scopes: ['voip'] },
      {
        ...forgedPrincipal(oid),
        authorization: `Bearer ${await entraToken(oid)}`,
      },
    );
    expect(answer.status).toBe(200);
  });
});

describe('Easy Auth enforced, with its token store', () => {
  it('a signed-in session carries its ID token, and the app serves it', async () => {
    const cookie = await devLogin(enforced.url, uniqueUser('ann'));
    const first = await postToken(enforced.url, cookie);
    expect(first.status).toBe(200);
    const again = await postToken(enforced.url, cookie);
    type Issued = { user: { communicationUserId: string } };
    expect((again.json as Issued).user.communicationUserId).toBe(
      (first.json as Issued).user.communicationUserId,
    );
  });

  it('a bearer caller is served: App Service passes its access token on', async () => {
    const answer = await postToken(
      enforced.url,
      undefined,
      { scopes: ['voip'] },
      {
        authorization: `Bearer ${await entraToken(uniqueUser('mobile'), { scp: 'access' })}`,
      },
    );
    expect(answer.status).toBe(200);
  });

  it('the platform strips forged principal headers; with no session there is no principal', async () => {
    const answer = await postToken(
      enforced.url,
      undefined,
      { scopes: ['voip'] },
      forgedPrincipal('victim'),
    );
    expect(answer.status).toBe(401);
  });
});
