import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { devLogin, uniqueUser } from '../support/easyAuthSession';
import { call, type Answer } from '../support/http';
import { issuerOfHost, mintToken } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * Issue #19 item 1: a revoke (or `DELETE /api/user`) that lands while the principal's first token
 * request is still creating its identity. A 204 must mean that no token issued before it is ever
 * served again, and that ACS holds every such token revoked.
 */
const CACHE_KEY = randomBytes(32).toString('base64');
/** Short, so the other instance's in-process bound is seen to run out within the test. */
const LOCAL_SECONDS = 2;
/** Long enough that the revoke certainly lands while the create is in flight. */
const CREATE_LATENCY_MS = 1_500;

let emulator: RunningEmulator;
let azurite: TestAzurite;
let hostA: LocalHostProcess;
let hostB: LocalHostProcess;
let jwtHost: LocalHostProcess;
let issuer: string;

const common = () => ({
  ACS_CONNECTION_STRING: emulator.connectionString,
  IDENTITY_MAP_CONNECTION: azurite.connectionString,
  TOKEN_CACHE_KEY: CACHE_KEY,
  TOKEN_CACHE_LOCAL_SECONDS: String(LOCAL_SECONDS),
});

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  [hostA, hostB, jwtHost] = await Promise.all([
    startLocalHost({ ...common(), AUTH_MODE: 'easyauth' }),
    startLocalHost({ ...common(), AUTH_MODE: 'easyauth' }),
    startLocalHost({ ...common(), AUTH_MODE: 'jwt' }),
  ]);
  for (const host of [hostA, hostB, jwtHost]) host.secrets.add(CACHE_KEY);
  issuer = issuerOfHost(jwtHost.output());
});

afterAll(async () => {
  await Promise.all([hostA?.stop(), hostB?.stop(), jwtHost?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

beforeEach(async () => {
  emulator.reset();
  // The fault knob as a developer turns it (issue #19's reproduction), over the emulator's HTTP.
  const put = await call(`${emulator.url}/admin/faults`, {
    method: 'PUT',
    json: { latencyMs: CREATE_LATENCY_MS, operations: ['createUserAndToken'] },
  });
  expect(put.status).toBe(200);
});

/** How a test authenticates: a session cookie (easyauth) or a bearer token (jwt). */
type Credentials = Record<string, string>;

async function easyAuthCaller(label: string): Promise<Credentials> {
  return { cookie: await devLogin(hostA.url, uniqueUser(label)) };
}

async function jwtCaller(label: string): Promise<Credentials> {
  const token = await mintToken(issuer, {
    iss: issuer,
    sub: uniqueUser(label),
    aud: 'api://acs-token-service',
  });
  return { authorization: `Bearer ${token}` };
}

const tokenOf = (a: Answer) => (a.json as { token: string }).token;
const idOf = (a: Answer) =>
  (a.json as { user: { communicationUserId: string } }).user.communicationUserId;

/** Every route that hands out a token: POST /api/token and its GET twin. */
async function askEveryRoute(
  host: LocalHostProcess,
  who: Credentials,
): Promise<{ route: string; answer: Answer }[]> {
  const [post, get] = await Promise.all([
    call(`${host.url}/api/token`, { method: 'POST', headers: who, json: {} }),
    call(`${host.url}/api/token?scopes=voip`, { headers: who }),
  ]);
  return [
    { route: 'POST /api/token', answer: post },
    { route: 'GET /api/token', answer: get },
  ];
}

/**
 * Starts the principal's first token request and resolves once its create has reached ACS (and
 * is held there by the injected latency). The answer comes wrapped: awaiting a bare promise here
 * would wait for the answer itself.
 */
async function firstRequestInFlight(host: LocalHostProcess, who: Credentials) {
  const first = call(`${host.url}/api/token`, { method: 'POST', headers: who, json: {} });
  const giveUpAt = Date.now() + 10_000;
  while (emulator.counts().createUserAndToken === 0) {
    if (Date.now() > giveUpAt) throw new Error('the first request never reached ACS');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { first };
}

async function introspect(token: string): Promise<{ active: boolean; reason?: string }> {
  const answer = await call(`${emulator.url}/admin/introspect`, {
    method: 'POST',
    json: { token },
  });
  return answer.json as { active: boolean; reason?: string };
}

async function expectNeverServed(hosts: LocalHostProcess[], who: Credentials, old: string) {
  for (const host of hosts) {
    for (const { route, answer } of await askEveryRoute(host, who)) {
      expect(answer.status).toBe(200);
      // Compared as a flag, so a failure names the route and does not print the token.
      expect({ route, servesTheOldToken: tokenOf(answer) === old }).toEqual({
        route,
        servesTheOldToken: false,
      });
    }
  }
}

/** The identity map's rows, as Azurite holds them. */
async function mappedIdentities(): Promise<string[]> {
  const table = TableClient.fromConnectionString(azurite.connectionString, 'acsidentities', {
    allowInsecureConnection: true,
  });
  const ids: string[] = [];
  for await (const row of table.listEntities<{ communicationUserId?: string }>()) {
    if (row.communicationUserId) ids.push(row.communicationUserId);
  }
  return ids;
}

/** No orphan: every identity ACS still has is mapped, and every mapped one is live. */
async function expectNoOrphan(): Promise<void> {
  const live = emulator
    .identities()
    .filter((i) => !i.deleted)
    .map((i) => i.id);
  const mapped = new Set(await mappedIdentities());
  expect({ orphans: live.filter((id) => !mapped.has(id)) }).toEqual({ orphans: [] });
}

describe('a revoke racing the principal first token request', () => {
  const cases: [string, () => Promise<Credentials>, () => LocalHostProcess][] = [
    ['easyauth', () => easyAuthCaller('race-easy'), () => hostA],
    ['jwt', () => jwtCaller('race-jwt'), () => jwtHost],
  ];

  it.each(cases)(
    '%s: the token created meanwhile is revoked at ACS and never served after the 204',
    async (_mode, caller, hostOf) => {
      const host = hostOf();
      const who = await caller();
      const { first } = await firstRequestInFlight(host, who);
      const revoke = await call(`${host.url}/api/token/revoke`, { method: 'POST', headers: who });
      expect(revoke.status).toBe(204);
      const firstAnswer = await first;
      expect(firstAnswer.status).toBe(200);
      const old = tokenOf(firstAnswer);
      const others = host === jwtHost ? [jwtHost] : [hostA, hostB];
      await expectNeverServed(others, who, old);
      expect(await introspect(old)).toEqual(expect.objectContaining({ reason: 'revoked' }));
    },
  );

  it('across two instances: a revoke on B during A create leaves nothing for B to serve', async () => {
    const who = await easyAuthCaller('race-two');
    const { first } = await firstRequestInFlight(hostA, who);
    const revoke = await call(`${hostB.url}/api/token/revoke`, { method: 'POST', headers: who });
    expect(revoke.status).toBe(204);
    const old = tokenOf(await first);
    // B never held it in memory: the sealed copy in the row is all it could serve.
    await expectNeverServed([hostB], who, old);
    expect(await introspect(old)).toEqual(expect.objectContaining({ reason: 'revoked' }));
    // A answered the first request itself, so its in-process layer may hand the old token out
    // for at most TOKEN_CACHE_LOCAL_SECONDS (docs/design.md, in-process layer); never after.
    const boundEnds = Date.now() + LOCAL_SECONDS * 1000 + 500;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, boundEnds - Date.now())));
    await expectNeverServed([hostA, hostB], who, old);
  });
});

describe('DELETE /api/user racing the principal first token request', () => {
  it.each([
    ['easyauth', () => easyAuthCaller('del-easy'), () => hostA, () => hostB],
    ['jwt', () => jwtCaller('del-jwt'), () => jwtHost, () => jwtHost],
  ] as const)(
    '%s: no orphan identity, and nothing issued before the 204 is served',
    async (_mode, caller, creatorOf, deleterOf) => {
      const who = await caller();
      const { first } = await firstRequestInFlight(creatorOf(), who);
      const removed = await call(`${deleterOf().url}/api/user`, {
        method: 'DELETE',
        headers: who,
      });
      expect(removed.status).toBe(204);
      expect((await first).status).toBe(200);
      await expectNoOrphan();
      // Whatever is served now is alive at ACS and belongs to the identity the row maps: the
      // identity the 204 deleted is never handed out again.
      for (const { answer } of await askEveryRoute(deleterOf(), who)) {
        expect(answer.status).toBe(200);
        expect(await introspect(tokenOf(answer))).toEqual(
          expect.objectContaining({ active: true }),
        );
        expect(await mappedIdentities()).toContain(idOf(answer));
      }
      await expectNoOrphan();
    },
  );

  it('easyauth, ACS refusing deletes meanwhile: never a 204 that leaves the identity alive', async () => {
    const who = await easyAuthCaller('del-refused');
    const before = emulator.identities().length;
    const { first } = await firstRequestInFlight(hostA, who);
    // The create is already held by its latency; from now on every delete at ACS fails.
    emulator.setFaults({ latencyMs: 0, errorRate: 1, operations: ['deleteIdentity'] });
    const refused = await call(`${hostB.url}/api/user`, { method: 'DELETE', headers: who });
    expect((await first).status).toBe(200);
    // Either the delete is refused (the caller retries it), or it did delete: never a 204 while
    // an identity of this principal is alive at ACS and unmapped.
    if (refused.status === 204) await expectNoOrphan();
    else {
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    emulator.setFaults({ errorRate: 0, operations: undefined });
    const retried = await call(`${hostB.url}/api/user`, { method: 'DELETE', headers: who });
    expect(retried.status).toBe(204);
    await expectNoOrphan();
    const ours = emulator.identities().slice(before);
    expect(ours.filter((i) => !i.deleted)).toEqual([]);
  });
});
