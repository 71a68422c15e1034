import net from 'node:net';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { call, type Answer } from '../support/http';
import { verifyWithJwks } from '../support/jwt';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { eventually } from '../support/poll';

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

beforeEach(() => emulator.reset());

const tokenUrl = () => `${host.url}/api/token`;
const withKey = () => ({ 'x-functions-key': host.key });

function expectProblem(answer: Answer, status: number, code: string): Record<string, unknown> {
  expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
    status,
    type: 'application/problem+json',
  });
  const body = answer.json as Record<string, unknown>;
  expect(body).toMatchObject({
    type: `urn:acs-token-service:problem:${code}`,
    status,
    code,
    instance: '/api/token',
  });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(answer.text).not.toMatch(/eyJ|accesskey|at .*\.js:\d+/);
  return body;
}

describe('POST /api/token over the local host', () => {
  it('issues a verifiable token with exactly the requested scopes in one ACS call', async () => {
    const answer = await call(tokenUrl(), {
      method: 'POST',
      headers: withKey(),
      json: { scopes: ['chat', 'voip'], expiresInMinutes: 90 },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const body = answer.json as {
      user: { communicationUserId: string };
      token: string;
      expiresOn: string;
    };
    expect(Object.keys(body).sort()).toEqual(['expiresOn', 'token', 'user']);
    expect(body.user.communicationUserId).toMatch(/^8:acs:/);

    const claims = await verifyWithJwks(body.token, emulator.jwksUrl);
    expect(claims.sub).toBe(body.user.communicationUserId);
    expect(claims.scp).toEqual(['chat', 'voip']);
    expect((claims.exp as number) * 1000).toBe(Date.parse(body.expiresOn));
    // Our own form (docs/api.md), not ACS's seven digits and +00:00, which the emulator now sends.
    expect(body.expiresOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(body.expiresOn) - Date.now()).toBeGreaterThan(89 * 60_000);
    expect(Date.parse(body.expiresOn) - Date.now()).toBeLessThanOrEqual(90 * 60_000);

    expect(emulator.counts()).toMatchObject({
      createUserAndToken: 1,
      createUser: 0,
      issueAccessToken: 0,
      rejected: 0,
    });
  });

  it('applies the defaults (voip, 60 minutes) to an empty body', async () => {
    const answer = await call(tokenUrl(), { method: 'POST', headers: withKey() });
    expect(answer.status).toBe(200);
    const body = answer.json as { token: string; expiresOn: string };
    const claims = await verifyWithJwks(body.token, emulator.jwksUrl);
    expect(claims.scp).toEqual(['voip']);
    expect(Math.round((Date.parse(body.expiresOn) - Date.now()) / 60_000)).toBe(60);
  });

  it('accepts the key as ?code= and the request as a GET query', async () => {
    const viaCode = await call(`${tokenUrl()}?code=${encodeURIComponent(host.key)}`, {
      method: 'POST',
      json: {},
    });
    expect(viaCode.status).toBe(200);
    const viaGet = await call(`${tokenUrl()}?scopes=chat,voip&expiresInMinutes=120`, {
      headers: withKey(),
    });
    expect(viaGet.status).toBe(200);
    const claims = await verifyWithJwks((viaGet.json as { token: string }).token, emulator.jwksUrl);
    expect(claims.scp).toEqual(['chat', 'voip']);
    expect(emulator.counts().createUserAndToken).toBe(2);
  });

  it('refuses a missing or wrong key with a bare 401 and calls ACS zero times', async () => {
    const none = await call(tokenUrl(), { method: 'POST', json: { scopes: ['voip'] } });
    const wrong = await call(tokenUrl(), {
      method: 'POST',
      headers: { 'x-functions-key': `${host.key}x` },
      json: {},
    });
    expect([none.status, none.text, wrong.status, wrong.text]).toEqual([401, '', 401, '']);
    expect(emulator.counts().createUserAndToken).toBe(0);
  });

  it.each([
    ['an unknown scope', { scopes: ['bogus'] }, 'scopes[0]'],
    ['empty scopes', { scopes: [] }, 'scopes'],
    ['duplicate scopes', { scopes: ['voip', 'voip'] }, 'scopes'],
    ['expiry 59', { expiresInMinutes: 59 }, 'expiresInMinutes'],
    ['expiry 1441', { expiresInMinutes: 1441 }, 'expiresInMinutes'],
    ['expiry 60.5', { expiresInMinutes: 60.5 }, 'expiresInMinutes'],
    ['expiry as a string', { expiresInMinutes: '60' }, 'expiresInMinutes'],
    ['scopes as a string', { scopes: 'voip' }, 'scopes'],
    ['an unknown field', { scopes: ['voip'], admin: true }, 'admin'],
  ])('answers %s with a 400 naming the field', async (_name, json, field) => {
    const answer = await call(tokenUrl(), { method: 'POST', headers: withKey(), json });
    const body = expectProblem(answer, 400, 'invalid_request');
    expect(body.errors).toEqual([expect.objectContaining({ field })]);
    expect(body.detail).toContain(field);
    expect(emulator.counts().createUserAndToken).toBe(0);
  });

  it('answers malformed JSON and a wrong content type with 400', async () => {
    const malformed = await call(tokenUrl(), {
      method: 'POST',
      headers: { ...withKey(), 'content-type': 'application/json' },
      body: '{"scopes":',
    });
    expect(expectProblem(malformed, 400, 'invalid_json').detail).toBe(
      'The body is not valid JSON.',
    );
    const form = await call(tokenUrl(), {
      method: 'POST',
      headers: { ...withKey(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'scopes=voip',
    });
    expect(expectProblem(form, 400, 'unsupported_content_type').detail).toContain(
      'application/x-www-form-urlencoded',
    );
  });

  it('answers a body over 16 KiB with 413', async () => {
    const answer = await call(tokenUrl(), {
      method: 'POST',
      headers: withKey(),
      json: { scopes: ['voip'], pad: 'x'.repeat(20_000) },
    });
    expectProblem(answer, 413, 'payload_too_large');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const answer = await call(tokenUrl(), { method: 'PUT', headers: withKey(), json: {} });
    expectProblem(answer, 405, 'method_not_allowed');
    expect(answer.headers.get('allow')).toBe('GET, POST');
  });

  it('answers an out-of-policy scope with 403', async () => {
    const strict = await startLocalHost({
      ACS_CONNECTION_STRING: emulator.connectionString,
      ALLOWED_SCOPES: 'voip,chat.join',
    });
    try {
      const answer = await call(`${strict.url}/api/token`, {
        method: 'POST',
        headers: { 'x-functions-key': strict.key },
        json: { scopes: ['chat'] },
      });
      expect(answer.status).toBe(403);
      expect((answer.json as { code: string; detail: string }).detail).toBe(
        'You may not be granted "chat"; allowed scopes: voip, chat.join.',
      );
    } finally {
      await strict.stop();
    }
  });
});

/** Writes `request` as is on a new connection and returns everything the server sends back. */
function rawExchange(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(host.url).port), '127.0.0.1');
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
    socket.write(request);
  });
}

describe('the local host', () => {
  it('answers a Host header with userinfo with a bare 400, not a 500', async () => {
    const reply = await rawExchange(
      'GET /api/health HTTP/1.1\r\nHost: user:secret@localhost\r\nConnection: close\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toMatch(/\r\ncontent-length: 0\r\n/i);
  });
});

describe('GET /api/health', () => {
  it('is anonymous, reports ACS reachable and leaks nothing', async () => {
    const answer = await call(`${host.url}/api/health`);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'ready',
      acs: { reachable: true, auth: 'connectionString' },
    });
    expect(answer.text).not.toMatch(/accesskey|endpoint=|127\.0\.0\.1/i);
  });
});

describe('logs', () => {
  it('never contain the token, the access key or the function key', async () => {
    const answer = await call(tokenUrl(), { method: 'POST', headers: withKey(), json: {} });
    const token = (answer.json as { token: string }).token;
    // The start-up banner prints the dev key on purpose (its curl line); service logs follow it.
    const serviceLogs = () => {
      const output = host.output();
      return output.slice(output.indexOf('Local host ready at'));
    };
    await eventually("the request's log record", () => serviceLogs().includes('"event":"request"'));
    const logs = serviceLogs();
    for (const secret of [token, emulator.accessKey, host.key]) {
      expect(logs).not.toContain(secret);
    }
  });
});
