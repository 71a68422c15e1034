import { CommunicationIdentityClient } from '@azure/communication-identity';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { verifyWithJwks } from '../support/jwt';
import { devLogin, postToken, uniqueUser } from '../support/easyAuthSession';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

const TOKEN_POLICY = JSON.stringify({
  roles: {
    guest: { scopes: ['chat.join.limited', 'voip.join'], maxExpiryMinutes: 60 },
    member: { scopes: ['chat', 'voip'], defaultScopes: ['voip'] },
  },
});

let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess;

async function startHost(): Promise<LocalHostProcess> {
  return startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
    TOKEN_POLICY,
  });
}

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  host = await startHost();
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

beforeEach(() => emulator.reset());

/** A unique user per test, so tests never share a mapping. */
const userName = uniqueUser;
const login = (user: string, roles?: string) => devLogin(host.url, user, roles);
const token = (cookie: string | undefined, json?: unknown, headers?: Record<string, string>) =>
  postToken(host.url, cookie, json, headers);

const idOf = (a: Answer) =>
  (a.json as { user: { communicationUserId: string } }).user.communicationUserId;
const liveIdentities = () => emulator.identities().filter((i) => !i.deleted);

describe('easyauth mode: who is calling', () => {
  it('refuses a request without a principal with a 401 problem', async () => {
    const answer = await token(undefined);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.json).toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(emulator.counts().createUserAndToken).toBe(0);
  });

  it('keeps one ACS identity per principal: create once, then getToken', async () => {
    const cookie = await login(userName('alice'));
    const first = await token(cookie);
    const second = await token(cookie, { scopes: ['chat'] });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(idOf(second)).toBe(idOf(first));
    expect(emulator.counts()).toMatchObject({
      createUserAndToken: 1,
      issueAccessToken: 1,
      createUser: 0,
    });
    const claims = await verifyWithJwks((second.json as { token: string }).token, emulator.jwksUrl);
    expect(claims).toMatchObject({ sub: idOf(first), scp: ['chat'] });

    const me = await call(`${host.url}/api/user`, { headers: { cookie } });
    expect([me.status, me.json]).toEqual([200, { communicationUserId: idOf(first) }]);
  });

  it('answers GET /api/user with 404 before the first token', async () => {
    const cookie = await login(userName('newcomer'));
    const me = await call(`${host.url}/api/user`, { headers: { cookie } });
    expect(me.status).toBe(404);
    expect(me.json).toMatchObject({ code: 'not_found' });
  });

  it('refuses naming another identity with 403', async () => {
    const cookie = await login(userName('alice'));
    const answer = await token(cookie, {
      scopes: ['voip'],
      communicationUserId: '8:acs:someone-else',
    });
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ code: 'forbidden' });
    expect(emulator.counts().issueAccessToken).toBe(0);
  });

  it('gives 50 concurrent first requests one identity and leaves no orphan', async () => {
    const cookie = await login(userName('bob'));
    const before = emulator.identities().length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => token(cookie)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    const ids = new Set(answers.map(idOf));
    expect(ids.size).toBe(1);
    const created = emulator.identities().slice(before);
    expect(created.map((i) => i.id)).toEqual([...ids]);
    expect(created[0]?.deleted).toBe(false);
    expect(emulator.counts().createUserAndToken).toBe(1);
  });

  it('heals a mapping whose identity was deleted behind its back', async () => {
    const cookie = await login(userName('carol'));
    const first = await token(cookie);
    const acs = new CommunicationIdentityClient(emulator.connectionString, {
      allowInsecureConnection: true,
    });
    await acs.deleteUser({ communicationUserId: idOf(first) });
    const healed = await token(cookie);
    expect(healed.status).toBe(200);
    expect(idOf(healed)).not.toBe(idOf(first));
    const me = await call(`${host.url}/api/user`, { headers: { cookie } });
    expect(me.json).toEqual({ communicationUserId: idOf(healed) });
  });

  it('heals a mapping whose identity belongs to another ACS resource (401 IdentityNotOwned)', async () => {
    const cookie = await login(userName('heidi'));
    const first = idOf(await token(cookie));
    const revoker = await login(userName('ivan'));
    const deleter = await login(userName('judy'));
    await Promise.all([token(revoker), token(deleter)]);
    // The same identity map in front of another resource: every mapped identity is foreign there.
    const elsewhere = await startEmulator({ port: 0 });
    const moved = await startLocalHost({
      ACS_CONNECTION_STRING: elsewhere.connectionString,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      TOKEN_POLICY,
    });
    try {
      const at = (route: string, c: string, method = 'GET') =>
        call(`${moved.url}${route}`, { method, headers: { cookie: c } });
      const healed = await call(`${moved.url}/api/token`, {
        method: 'POST',
        headers: { cookie },
        json: { scopes: ['voip'] },
      });
      expect(healed.status).toBe(200);
      expect(idOf(healed)).not.toBe(first);
      expect(idOf(healed).startsWith(`8:acs:${elsewhere.resourceId}_`)).toBe(true);
      expect(moved.output()).toMatch(/"event":"identity_gone"/);
      // Revoking and deleting a foreign identity: nothing left to revoke or delete, so done.
      expect((await at('/api/token/revoke', revoker, 'POST')).status).toBe(204);
      expect((await at('/api/user', deleter, 'DELETE')).status).toBe(204);
      expect((await at('/api/user', deleter)).status).toBe(404);
    } finally {
      await moved.stop();
      await elsewhere.close();
    }
  });

  it('revokes the caller’s tokens', async () => {
    const cookie = await login(userName('dave'));
    const issued = await token(cookie);
    const revoke = await call(`${host.url}/api/token/revoke`, {
      method: 'POST',
      headers: { cookie },
    });
    expect([revoke.status, revoke.text]).toEqual([204, '']);
    expect(emulator.identities().find((i) => i.id === idOf(issued))?.revokedAt).toBeDefined();
    expect(emulator.counts().revokeAccessTokens).toBe(1);
  });

  it('deletes the identity and mapping idempotently; the next token makes a new one', async () => {
    const cookie = await login(userName('erin'));
    const issued = await token(cookie);
    const del1 = await call(`${host.url}/api/user`, { method: 'DELETE', headers: { cookie } });
    const del2 = await call(`${host.url}/api/user`, { method: 'DELETE', headers: { cookie } });
    expect([del1.status, del2.status]).toEqual([204, 204]);
    expect(emulator.identities().find((i) => i.id === idOf(issued))?.deleted).toBe(true);
    expect((await call(`${host.url}/api/user`, { headers: { cookie } })).status).toBe(404);
    const again = await token(cookie);
    expect(again.status).toBe(200);
    expect(idOf(again)).not.toBe(idOf(issued));
  });

  it('applies the role policy', async () => {
    const guest = await login(userName('guest'), 'guest');
    const refused = await token(guest, { scopes: ['chat'] });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({
      code: 'scope_not_allowed',
      detail: 'You may not be granted "chat"; allowed scopes: chat.join.limited, voip.join.',
    });
    const tooLong = await token(guest, { scopes: ['voip.join'], expiresInMinutes: 120 });
    expect(tooLong.json).toMatchObject({ code: 'expiry_not_allowed', status: 403 });
    const allowed = await token(guest, {});
    expect(allowed.status).toBe(200);
    const claims = await verifyWithJwks(
      (allowed.json as { token: string }).token,
      emulator.jwksUrl,
    );
    expect(claims.scp).toEqual(['chat.join.limited', 'voip.join']);

    const member = await login(userName('member'), 'member');
    const full = await token(member, { scopes: ['chat', 'voip'], expiresInMinutes: 1440 });
    expect(full.status).toBe(200);
    const nobody = await login(userName('visitor'), 'visitor');
    expect((await token(nobody)).json).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('keeps mappings across a restart of the service and Azurite', async () => {
    const cookie = await login(userName('grace'));
    const before = idOf(await token(cookie));
    await host.stop();
    const { location, port } = azurite;
    await azurite.stop();
    azurite = { ...(await startTestAzurite(location, port)), location };
    host = await startHost();
    // The session cookie is signed with the key kept in .dev/, so it survives the restart too.
    const after = await token(cookie);
    expect(after.status).toBe(200);
    expect(idOf(after)).toBe(before);
    expect(liveIdentities().some((i) => i.id === before)).toBe(true);
  });
});
