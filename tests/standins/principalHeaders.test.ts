import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler } from '@azure/functions';
import { easyAuthStandIn } from '../../dev/host/easyAuth';
import type { Registration } from '../../dev/host/functionsCore';
import type { LogRecord } from '../../dev/host/logger';
import { buildRoutes } from '../../dev/host/routes';
import { createLocalHost, type PlatformLayer } from '../../dev/host/server';

/**
 * How the Easy Auth stand-in hands a principal to the app (docs/platform-parity.md, "Principal
 * encoding"), and what the local host does with a request the worker could not build. The
 * function only reports the principal headers it was given.
 */
const seen: HttpHandler = (request) =>
  Promise.resolve({
    jsonBody: {
      id: request.headers.get('x-ms-client-principal-id'),
      name: request.headers.get('x-ms-client-principal-name'),
      principal: JSON.parse(
        Buffer.from(request.headers.get('x-ms-client-principal') ?? 'e30=', 'base64').toString(
          'utf8',
        ),
      ) as unknown,
    },
  });

const registration: Registration = {
  name: 'seen',
  handler: seen,
  trigger: { type: 'httpTrigger', methods: ['GET'], authLevel: 'anonymous' },
};

const logs: LogRecord[] = [];
const servers: http.Server[] = [];

async function startHost(platform: PlatformLayer[]): Promise<string> {
  const server = createLocalHost({
    routes: buildRoutes([registration], 'api'),
    keys: { functionKey: 'f', masterKey: 'm', sessionSecret: 's' },
    log: (record) => logs.push(record),
    platform,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

interface Seen {
  id: string | null;
  name: string | null;
  principal: { claims: { typ: string; val: string }[] };
}

async function signedIn(base: string, user: string, name?: string): Promise<Seen> {
  const query = new URLSearchParams({ user, ...(name === undefined ? {} : { name }) });
  const login = await fetch(`${base}/.auth/login/dev?${query.toString()}`);
  expect(login.status).toBe(200);
  const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const answer = await fetch(`${base}/api/seen`, { headers: { cookie } });
  expect(answer.status).toBe(200);
  return (await answer.json()) as Seen;
}

const claim = (seenBy: Seen, typ: string) =>
  seenBy.principal.claims.find((c) => c.typ === typ)?.val;
const NAME_ID = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

describe('the Easy Auth stand-in, principals a header cannot carry as they are', () => {
  let base: string;
  beforeAll(async () => {
    base = await startHost([easyAuthStandIn({ enabled: true, secret: 'test-secret' })]);
  });

  it.each([
    ['アリス', '%E3%82%A2%E3%83%AA%E3%82%B9'],
    ['张伟', '%E5%BC%A0%E4%BC%9F'],
    ['Zoë', 'Zo%C3%AB'],
    ['a\nb', 'a%0Ab'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['a\0b', 'a%00b'],
    ['a b\tc', 'a b\tc'],
    ['alice@example.com', 'alice@example.com'],
  ])('%j: headers percent-encoded as UTF-8, claims exact', async (user, header) => {
    const got = await signedIn(base, user);
    expect(got.id).toBe(header);
    expect(got.name).toBe(header);
    expect(claim(got, NAME_ID)).toBe(user);
    expect(claim(got, 'name')).toBe(user);
  });

  it('surrounding whitespace reaches the app trimmed in the header, kept in the claims', async () => {
    const got = await signedIn(base, ' alice\t');
    expect(got.id).toBe('alice');
    expect(claim(got, NAME_ID)).toBe(' alice\t');
  });

  it('a display name apart from the id', async () => {
    const got = await signedIn(base, 'u-0001', '张伟');
    expect(got).toMatchObject({ id: 'u-0001', name: '%E5%BC%A0%E4%BC%9F' });
    expect(claim(got, 'name')).toBe('张伟');
  });

  it('refuses an empty id, one over 128 characters, and a lone surrogate', async () => {
    for (const user of ['', 'x'.repeat(129)]) {
      expect((await fetch(`${base}/.auth/login/dev?user=${user}`)).status).toBe(400);
    }
    expect((await fetch(`${base}/.auth/login/dev?user=a%ED%A0%80`)).status).toBe(200); // U+FFFD
    expect((await fetch(`${base}/.auth/login/dev?user=${'ア'.repeat(128)}`)).status).toBe(200);
  });
});

describe('a request the worker cannot build', () => {
  it('answers 500 as Azure does, and logs which header, never its value', async () => {
    // A platform layer that passes a raw value, as Easy Auth would if it did not encode it.
    const raw: PlatformLayer = {
      handle: () => false,
      headersFor: (_req, headers) => {
        headers['x-ms-client-principal-name'] = 'アリス';
      },
    };
    const base = await startHost([raw]);
    logs.length = 0;
    const answer = await fetch(`${base}/api/seen`);
    expect(answer.status).toBe(500);
    expect(await answer.text()).toBe('');
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'error',
        functionName: 'seen',
        message: 'the worker could not build the request; the function did not run',
        fields: { errorName: 'TypeError', headers: ['x-ms-client-principal-name'] },
      }),
    ]);
    expect(JSON.stringify(logs)).not.toContain('アリス');
  });
});
