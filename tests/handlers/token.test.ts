import { HttpRequest, HttpResponse, InvocationContext, type HttpHandler } from '@azure/functions';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { loadConfig } from '../../src/config';
import { buildServices } from '../../src/runtime';
import { buildApp } from '../support/registrar';

let emulator: RunningEmulator;
// The handlers the app registers, built with services that talk to the emulator.
let tokenHandler: HttpHandler;
let healthHandler: HttpHandler;
const logged: unknown[][] = [];

function context(): InvocationContext {
  return new InvocationContext({
    functionName: 'token',
    invocationId: 'test-invocation',
    logHandler: (_level, ...args) => logged.push(args),
  });
}

async function invoke(
  handler: HttpHandler,
  init: ConstructorParameters<typeof HttpRequest>[0],
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = new HttpResponse(await handler(new HttpRequest(init), context()));
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  const app = buildApp(
    buildServices(
      loadConfig({ ACS_CONNECTION_STRING: emulator.connectionString, ACS_TIMEOUT_MS: '500' }),
    ),
  );
  tokenHandler = app.handler('token');
  healthHandler = app.handler('health');
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(() => emulator.reset());

describe('tokenHandler (in process)', () => {
  it('returns the token response for a valid POST', async () => {
    const answer = await invoke(tokenHandler, {
      method: 'POST',
      url: 'http://localhost/api/token',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ scopes: ['voip'], expiresInMinutes: 60 }) },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      user: { communicationUserId: expect.stringMatching(/^8:acs:/) as string },
      token: expect.stringMatching(/^eyJ/) as string,
      expiresOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string,
    });
    expect(emulator.counts().createUserAndToken).toBe(1);
  });

  it('returns a complete problem body for bad input', async () => {
    const answer = await invoke(tokenHandler, {
      method: 'POST',
      url: 'http://localhost/api/token',
      headers: { 'content-type': 'application/json' },
      body: { string: JSON.stringify({ scopes: [] }) },
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body).toEqual({
      type: 'urn:acs-token-service:problem:invalid_request',
      title: 'The request is not valid',
      status: 400,
      detail: 'scopes must name at least one scope.',
      code: 'invalid_request',
      instance: '/api/token',
      invocationId: 'test-invocation',
      errors: [{ field: 'scopes', message: 'must name at least one scope' }],
    });
  });

  it('maps an ACS slower than the deadline to 504', async () => {
    // ACS would answer after 2 s, well past the 500 ms deadline: only the deadline gives a 504.
    emulator.setFaults({ latencyMs: 2_000 });
    const answer = await invoke(tokenHandler, {
      method: 'GET',
      url: 'http://localhost/api/token?scopes=voip',
    });
    expect(answer.status).toBe(504);
    expect(answer.body).toMatchObject({ code: 'upstream_timeout' });
  });

  it('logs one request record without the token', async () => {
    logged.length = 0;
    const answer = await invoke(tokenHandler, { method: 'GET', url: 'http://localhost/api/token' });
    const token = (answer.body as { token: string }).token;
    expect(logged).toHaveLength(1);
    const [line] = logged[0] ?? [];
    expect(typeof line).toBe('string');
    expect(JSON.parse(line as string)).toEqual({
      event: 'request',
      operation: 'token',
      method: 'GET',
      status: 200,
      outcome: 'ok',
      durationMs: expect.any(Number) as number,
      correlationId: 'test-invocation',
      invocationId: 'test-invocation',
      callerKind: 'keyHolder',
      scopes: ['voip'],
      acsCalls: 1,
      acsMs: expect.any(Number) as number,
      acsRetries: 0,
    });
    expect(JSON.stringify(logged)).not.toContain(token);
  });
});

describe('healthHandler (in process)', () => {
  it('reports ready while the emulator answers', async () => {
    const answer = await invoke(healthHandler, {
      method: 'GET',
      url: 'http://localhost/api/health',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'ready', acs: { reachable: true } });
  });
});
