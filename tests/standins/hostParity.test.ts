import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler } from '@azure/functions';
import type { Registration } from '../../dev/host/functionsCore';
import { corsLayer, corsPolicyFrom } from '../../dev/host/cors';
import { buildRoutes } from '../../dev/host/routes';
import { createLocalHost, type PlatformLayer } from '../../dev/host/server';

/**
 * The local host against the platform's own behaviour (docs/platform-parity.md, "Local host"),
 * through real HTTP. The function here only reports what the host handed it.
 */
const echo: HttpHandler = async (request) => {
  const body = Buffer.from(await request.arrayBuffer());
  return {
    jsonBody: {
      query: Object.fromEntries(request.query),
      queryList: [...request.query],
      bodyBytes: body.length,
      transferEncoding: request.headers.get('transfer-encoding'),
    },
    headers: { 'x-app': 'yes' },
  };
};

function registration(): Registration {
  return {
    name: 'echo',
    handler: echo,
    trigger: { type: 'httpTrigger', methods: ['GET', 'POST', 'OPTIONS'], authLevel: 'anonymous' },
  };
}

const servers: http.Server[] = [];

async function startHost(platform: PlatformLayer[] = []): Promise<string> {
  const server = createLocalHost({
    routes: buildRoutes([registration()], 'api'),
    keys: { functionKey: 'f', masterKey: 'm', sessionSecret: 's' },
    log: () => undefined,
    platform,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** One request with full control of the framing (fetch would set Content-Length itself). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; chunks?: string[] },
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        }),
      );
    });
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

describe('local host: request bodies (azure-functions-host GrpcMessageConversionExtensions)', () => {
  it('hands the app no body when the request has no Content-Length (chunked)', async () => {
    const base = await startHost();
    const answer = await raw(`${base}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: ['{"scopes":', '["chat"]}'],
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ bodyBytes: 0, transferEncoding: 'chunked' });
  });

  it('hands the app the body when Content-Length is above zero', async () => {
    const base = await startHost();
    const body = '{"scopes":["chat"]}';
    const answer = await raw(`${base}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      chunks: [body],
    });
    expect(answer.json).toMatchObject({ bodyBytes: body.length });
  });
});

describe('local host: query strings (StringValues joined with a comma)', () => {
  it('joins repeated keys into one comma-separated value', async () => {
    const base = await startHost();
    const answer = await raw(`${base}/api/echo?scopes=voip&scopes=chat&expiresInMinutes=60`, {});
    expect(answer.json.queryList).toEqual([
      ['scopes', 'voip,chat'],
      ['expiresInMinutes', '60'],
    ]);
  });

  it('groups names that differ only by case under the first spelling', async () => {
    const base = await startHost();
    const answer = await raw(`${base}/api/echo?Scopes=voip&scopes=chat&CODE=k&code=x`, {});
    expect(answer.json.queryList).toEqual([
      ['Scopes', 'voip,chat'],
      ['CODE', 'k,x'],
    ]);
  });
});

describe('local host: CORS answered by the host (JobHostCorsMiddleware)', () => {
  const APP = 'http://app.example.test:5173';
  const layer = (origins: string, credentials: boolean) =>
    corsLayer(corsPolicyFrom({ CORS_ALLOWED_ORIGINS: origins }, credentials));

  it('answers a preflight itself, before the app, echoing what the browser asked for', async () => {
    const base = await startHost([layer(APP, true)]);
    const answer = await raw(`${base}/api/echo`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,traceparent',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['x-app']).toBeUndefined();
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type,traceparent',
    });
  });

  it("allows a jwt caller's Authorization header in a preflight (AllowAnyHeader)", async () => {
    const base = await startHost([layer(APP, false)]);
    const answer = await raw(`${base}/api/echo`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-headers']).toBe('authorization,content-type');
  });

  it('ends a preflight from an unlisted origin with a bare 204', async () => {
    const base = await startHost([layer(APP, true)]);
    const answer = await raw(`${base}/api/echo`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example.test', 'access-control-request-method': 'POST' },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['x-app']).toBeUndefined();
  });

  it('adds the headers to the app answer for a listed origin only, once', async () => {
    const base = await startHost([layer(`${APP},http://other.example.test`, true)]);
    const listed = await raw(`${base}/api/echo`, { headers: { origin: APP } });
    expect(listed.headers['x-app']).toBe('yes');
    expect(listed.headers['access-control-allow-origin']).toBe(APP);
    expect(listed.headers['access-control-allow-credentials']).toBe('true');
    expect(listed.headers.vary).toBe('Origin');
    const unlisted = await raw(`${base}/api/echo`, { headers: { origin: 'http://x.test' } });
    expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets an OPTIONS without Origin through to the app', async () => {
    const base = await startHost([layer(APP, false)]);
    const answer = await raw(`${base}/api/echo`, {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'POST' },
    });
    expect(answer.headers['x-app']).toBe('yes');
  });

  it('allows any origin with *, never with credentials', async () => {
    const base = await startHost([layer('*', false)]);
    const answer = await raw(`${base}/api/echo`, { headers: { origin: 'http://x.test' } });
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    // Easy Auth's default of credentials does not apply to *; asking for them is refused.
    expect(corsPolicyFrom({ CORS_ALLOWED_ORIGINS: '*' }, true).supportCredentials).toBe(false);
    expect(() =>
      corsPolicyFrom({ CORS_ALLOWED_ORIGINS: '*', CORS_SUPPORT_CREDENTIALS: 'true' }, false),
    ).toThrow(/CORS_SUPPORT_CREDENTIALS/);
  });

  it('reads the JSON array the platform itself writes, and a comma-separated list', () => {
    const fromJson = corsPolicyFrom(
      { CORS_ALLOWED_ORIGINS: `["${APP}","HTTPS://B.Example"]` },
      false,
    );
    const fromList = corsPolicyFrom({ CORS_ALLOWED_ORIGINS: `${APP}, https://b.example/` }, false);
    expect(fromJson.origins).toEqual([APP, 'https://b.example']);
    expect(fromList.origins).toEqual(fromJson.origins);
    expect(() => corsPolicyFrom({ CORS_ALLOWED_ORIGINS: 'https://a.example/path' }, false)).toThrow(
      /CORS_ALLOWED_ORIGINS/,
    );
  });
});
