import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { responseValidator } from '../support/openapi';
import { devLogin } from '../support/easyAuthSession';

let emulator: RunningEmulator;
let azurite: TestAzurite;
let keyHost: LocalHostProcess;
let authHost: LocalHostProcess;
let check: ReturnType<typeof responseValidator>;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  [keyHost, authHost] = await Promise.all([
    startLocalHost({ ACS_CONNECTION_STRING: emulator.connectionString }),
    startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      TOKEN_POLICY: '{"roles":{"member":{"scopes":["voip"]}}}',
    }),
  ]);
  const doc = await call(`${keyHost.url}/api/openapi.json`);
  expect(doc.status).toBe(200);
  check = responseValidator(doc.json as Record<string, unknown>);
});

afterAll(async () => {
  await Promise.all([keyHost?.stop(), authHost?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

function conforms(answer: Answer, path: string, method: string): void {
  const body = answer.text === '' ? undefined : answer.json;
  expect({
    path,
    method,
    status: answer.status,
    errors: check(path, method, answer.status, answer.headers.get('content-type'), body),
  }).toEqual({
    path,
    method,
    status: answer.status,
    errors: [],
  });
}

describe('real answers conform to the published document', () => {
  it('key mode: token, problems, revoke, delete, health', async () => {
    const key = { 'x-functions-key': keyHost.key };
    const url = (p: string) => `${keyHost.url}/api${p}`;
    const ok = await call(url('/token'), {
      method: 'POST',
      headers: key,
      json: { scopes: ['voip'] },
    });
    conforms(ok, '/token', 'POST');
    const id = (ok.json as { user: { communicationUserId: string } }).user.communicationUserId;
    conforms(await call(url('/token?scopes=chat'), { headers: key }), '/token', 'GET');
    conforms(
      await call(url('/token'), { method: 'POST', headers: key, json: { scopes: [] } }),
      '/token',
      'POST',
    );
    conforms(
      await call(url('/token'), {
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json' },
        body: '{',
      }),
      '/token',
      'POST',
    );
    conforms(
      await call(url('/token'), {
        method: 'POST',
        headers: key,
        json: { pad: 'x'.repeat(20_000) },
      }),
      '/token',
      'POST',
    );
    conforms(
      await call(url('/token'), {
        method: 'POST',
        headers: key,
        json: { communicationUserId: '8:acs:r_unknown' },
      }),
      '/token',
      'POST',
    );
    conforms(
      await call(url('/token/revoke'), {
        method: 'POST',
        headers: key,
        json: { communicationUserId: id },
      }),
      '/token/revoke',
      'POST',
    );
    conforms(
      await call(url(`/user?communicationUserId=${encodeURIComponent(id)}`), {
        method: 'DELETE',
        headers: key,
      }),
      '/user',
      'DELETE',
    );
    conforms(await call(url('/user'), { headers: key }), '/user', 'GET');
    conforms(await call(url('/health')), '/health', 'GET');
  });

  it('easyauth mode: unauthenticated, policy refusal, own identity', async () => {
    const url = (p: string) => `${authHost.url}/api${p}`;
    conforms(await call(url('/token'), { method: 'POST', json: {} }), '/token', 'POST');
    const cookie = await devLogin(authHost.url, `oas-${Date.now()}`);
    conforms(await call(url('/user'), { headers: { cookie } }), '/user', 'GET');
    conforms(
      await call(url('/token'), {
        method: 'POST',
        headers: { cookie },
        json: { scopes: ['chat'] },
      }),
      '/token',
      'POST',
    );
    conforms(
      await call(url('/token'), { method: 'POST', headers: { cookie }, json: {} }),
      '/token',
      'POST',
    );
    conforms(await call(url('/user'), { headers: { cookie } }), '/user', 'GET');
    conforms(
      await call(url('/user'), { method: 'DELETE', headers: { cookie } }),
      '/user',
      'DELETE',
    );
  });
});
