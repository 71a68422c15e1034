import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { call } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

let emulator: RunningEmulator;
let host: LocalHostProcess;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  host = await startLocalHost({ ACS_CONNECTION_STRING: emulator.connectionString });
});

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

const withKey = () => ({ 'x-functions-key': host.key });

async function newIdentity(): Promise<string> {
  const answer = await call(`${host.url}/api/token`, {
    method: 'POST',
    headers: withKey(),
    json: {},
  });
  return (answer.json as { user: { communicationUserId: string } }).user.communicationUserId;
}

describe('key mode: the backend names identities', () => {
  it('issues a fresh token for an identity the backend already has', async () => {
    const id = await newIdentity();
    emulator.reset();
    const answer = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers: withKey(),
      json: { communicationUserId: id, scopes: ['chat'] },
    });
    expect(answer.status).toBe(200);
    expect((answer.json as { user: unknown }).user).toEqual({ communicationUserId: id });
    expect(emulator.counts()).toMatchObject({ issueAccessToken: 1, createUserAndToken: 0 });
  });

  it('answers 404 for an identity ACS does not know, and 400 for a malformed id', async () => {
    const unknown = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers: withKey(),
      json: { communicationUserId: '8:acs:00000000-0000-0000-0000-000000000000_nobody' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: 'identity_not_found' });
    const malformed = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers: withKey(),
      json: { communicationUserId: 'alice@example.com' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ errors: [{ field: 'communicationUserId' }] });
  });

  it('revokes and deletes the named identity; deleting twice is fine', async () => {
    const id = await newIdentity();
    const revoke = await call(`${host.url}/api/token/revoke`, {
      method: 'POST',
      headers: withKey(),
      json: { communicationUserId: id },
    });
    expect(revoke.status).toBe(204);
    const target = `${host.url}/api/user?communicationUserId=${encodeURIComponent(id)}`;
    const del1 = await call(target, { method: 'DELETE', headers: withKey() });
    const del2 = await call(target, { method: 'DELETE', headers: withKey() });
    expect([del1.status, del2.status]).toEqual([204, 204]);
    expect(emulator.identities().find((i) => i.id === id)).toMatchObject({ deleted: true });
  });

  it('needs the identity named for revoke and delete, and the key for all of it', async () => {
    const revoke = await call(`${host.url}/api/token/revoke`, {
      method: 'POST',
      headers: withKey(),
    });
    expect(revoke.status).toBe(400);
    expect(revoke.json).toMatchObject({
      errors: [{ field: 'communicationUserId', message: 'is required' }],
    });
    const noKey = await call(`${host.url}/api/user`, { method: 'DELETE' });
    expect(noKey.status).toBe(401);
    const me = await call(`${host.url}/api/user`, { headers: withKey() });
    expect(me.status).toBe(404);
  });

  it('does not offer the dev sign-in and ignores principal headers', async () => {
    expect((await call(`${host.url}/.auth/login/dev?user=x`)).status).toBe(404);
    const spoofed = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers: { 'x-ms-client-principal-id': 'admin', 'x-ms-client-principal-idp': 'aad' },
      json: {},
    });
    expect(spoofed.status).toBe(401);
  });
});
