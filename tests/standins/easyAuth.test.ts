import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call } from '../support/http';
import { devLogin, postToken, uniqueUser } from '../support/easyAuthSession';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/*
 * The Easy Auth stand-in of the local host (dev/host/easyAuth.ts), not the app: like App Service
 * Authentication it strips principal headers a client sends, refuses session cookies it did not
 * sign, and serves /.auth/me and /.auth/logout. The app's handling of the principal it is given
 * is tested in tests/integration/callers.test.ts.
 */

let emulator: RunningEmulator;
let azurite: TestAzurite;
let host: LocalHostProcess;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
  });
});

afterAll(async () => {
  await host?.stop();
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

/** A unique user per test, so tests never share a mapping. */
const userName = uniqueUser;
const login = (user: string, roles?: string) => devLogin(host.url, user, roles);
const token = (cookie: string | undefined, json?: unknown, headers?: Record<string, string>) =>
  postToken(host.url, cookie, json, headers);

describe('Easy Auth stand-in', () => {
  it('ignores principal headers sent by the client', async () => {
    const forged = Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        claims: [{ typ: 'roles', val: 'member' }],
        name_typ: 'name',
        role_typ: 'roles',
      }),
    ).toString('base64');
    const answer = await token(
      undefined,
      { scopes: ['voip'] },
      {
        'x-ms-client-principal': forged,
        'x-ms-client-principal-id': 'mallory',
        'x-ms-client-principal-name': 'mallory',
        'x-ms-client-principal-idp': 'aad',
      },
    );
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain('eyJ');
  });

  it('refuses a session cookie with a forged signature', async () => {
    const cookie = await login(userName('eve'));
    const [name, value] = cookie.split('=');
    const [payload] = (value ?? '').split('.');
    const answer = await token(`${name}=${payload}.AAAA`);
    expect(answer.status).toBe(401);
  });

  it('refuses a genuine session cookie with anything appended', async () => {
    const cookie = await login(userName('trudy'));
    expect((await token(`${cookie}.extra`)).status).toBe(401);
    expect((await token(`${cookie}.`)).status).toBe(401);
    expect((await token(cookie)).status).toBe(200);
  });

  it('serves /.auth/me and signs out', async () => {
    const user = userName('frank');
    const cookie = await login(user, 'member');
    const me = await call(`${host.url}/.auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.json).toEqual([
      expect.objectContaining({ provider_name: 'dev', user_id: user }) as unknown,
    ]);
    const out = await fetch(`${host.url}/.auth/logout`, {
      headers: { cookie },
      redirect: 'manual',
    });
    expect(out.status).toBe(302);
    expect(out.headers.getSetCookie()[0]).toMatch(/^AppServiceAuthSession=; .*Max-Age=0/);
    expect((await call(`${host.url}/.auth/me`)).status).toBe(401);
  });
});
