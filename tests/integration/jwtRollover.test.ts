import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import {
  forgeUnknownKids,
  issuerOfHost,
  issuerStats,
  mintToken,
  rolloverKeys,
} from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';

// Its own file so that the wait for the JWKS cooldown (30 s) runs beside the other suites.
let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess;
let issuer: string;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'jwt',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
  });
  issuer = issuerOfHost(host.output());
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

const askToken = (token: string): Promise<Answer> =>
  call(`${host.url}/api/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    json: { scopes: ['voip'] },
  });

const jwksFetches = async () => (await issuerStats(issuer)).jwks;

describe('AUTH_MODE=jwt signing keys', () => {
  it('survives a kid flood without issuer requests, then picks up a key rollover without a restart', async () => {
    const before = await mintToken(issuer, { sub: 'rollover-alice' });
    expect((await askToken(before)).status).toBe(200);
    expect(await jwksFetches()).toBe(1);

    // The flood: 200 tokens, each with a kid the issuer never published.
    const flood = await forgeUnknownKids(
      issuer,
      { iss: issuer, sub: 'mallory', aud: 'api://acs-token-service' },
      200,
    );
    const beforeFlood = await jwksFetches(); // the forger read the JWKS once itself
    const answers = await Promise.all(flood.map(askToken));
    expect(answers.map((a) => a.status)).toEqual(flood.map(() => 401));
    expect(answers.map((a) => (a.json as { code: string }).code)).toEqual(
      flood.map(() => 'invalid_token'),
    );
    // At most one refetch per 30 s, whatever callers send: none if the flood came inside the
    // cooldown of the first fetch, one if a slow machine got past it.
    expect((await jwksFetches()) - beforeFlood).toBeLessThanOrEqual(1);

    // The issuer rolls its key over; the app learns the new kid once the cooldown allows.
    const newKid = await rolloverKeys(issuer);
    const after = await mintToken(issuer, { sub: 'rollover-alice' });
    expect(
      JSON.parse(Buffer.from(after.split('.')[0] ?? '', 'base64url').toString()),
    ).toMatchObject({ kid: newKid });
    const beforePolling = await jwksFetches();
    let answer = await askToken(after);
    // Bounded by the refetch cooldown (30 s) and a margin, inside the test's own timeout.
    await eventually(
      'the app to accept a token signed with the new key',
      async () => {
        if (answer.status !== 401) return true;
        expect((answer.json as { code: string }).code).toBe('invalid_token');
        answer = await askToken(after);
        return answer.status !== 401;
      },
      45_000,
      500,
    );
    expect(answer.status).toBe(200);
    expect((await jwksFetches()) - beforePolling).toBe(1);
    // The old key is still published, so tokens signed before the rollover keep working.
    expect((await askToken(before)).status).toBe(200);
    expect(host.output()).toContain('"authFailure":"unknown signing key"');
  }, 60_000);
});
