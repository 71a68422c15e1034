/**
 * The managed-identity stand-ins (dev/identity, dev/emulator/entra.ts, dev/tls.ts, Azurite with
 * `--oauth basic`), over real HTTP(S): the token service answers as App Service's does, the SDK
 * credential the app uses reads it, and the emulator and Azurite take (and refuse) its tokens as
 * ACS and Storage do. The SDK calls run in a child process that trusts the local certificate
 * authority through NODE_EXTRA_CA_CERTS, as the app does.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { TOKEN_PATH, type LocalManagedIdentity } from '../../dev/identity';
import { call, jwtClaims } from '../support/http';
import { spawnReady, type IssuerProcess } from '../support/issuer';
import { verifyWithJwks } from '../support/jwt';

const projectRoot = path.resolve(__dirname, '..', '..');

/** What dev/identity/main.js prints once everything listens. */
interface StackFacts {
  acsEndpoint: string;
  emulatorUrl: string;
  connectionString: string;
  tableEndpoint: string;
  issuerUrl: string;
  tenantId: string;
  entraIssuer: string;
  systemAssigned: LocalManagedIdentity;
  identityHeader: string;
  caFile: string;
  platformEnv: Record<string, string>;
}

let running: IssuerProcess;
let stack: StackFacts & { endpoint: string; ca: string };

beforeAll(async () => {
  // jose (ESM-only) cannot load inside jest: the stand-ins run as the built scripts they are.
  running = await spawnReady('identity/main.js', {}, /MI stack ready (\{.*\})\n/);
  const facts = JSON.parse(running.url) as StackFacts;
  stack = {
    ...facts,
    endpoint: facts.platformEnv.IDENTITY_ENDPOINT ?? '',
    ca: readFileSync(facts.caFile, 'utf8'),
  };
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

const tokenUrl = (query: string) => `${stack.endpoint}?${query}`;
const header = () => ({ 'x-identity-header': stack.identityHeader });

/** A token from the local issuer with these claims (POST /dev/token). */
async function minted(claims: Record<string, unknown>): Promise<string> {
  const answer = await call(`${stack.issuerUrl}/dev/token`, { method: 'POST', json: claims });
  expect(answer.status).toBe(200);
  return (answer.json as { access_token: string }).access_token;
}

/** One HTTPS exchange that trusts only the local certificate authority. */
function httpsCall(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, ca: stack.ca },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

async function miToken(resource: string): Promise<string> {
  const answer = await call(tokenUrl(`api-version=2019-08-01&resource=${resource}`), {
    headers: header(),
  });
  expect(answer.status).toBe(200);
  return (answer.json as { access_token: string }).access_token;
}

/** `POST /identities` on the emulator with a bearer token. */
const createIdentity = (token: string) =>
  httpsCall(`${stack.acsEndpoint}identities?api-version=2023-10-01`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });

/** Runs `script` in a fresh Node process with the platform's environment (and `extra`). */
function inChild(script: string, extra: Record<string, string> = {}): unknown {
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...stack.platformEnv, ...extra },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`child failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? 'null') as unknown;
}

describe('the local managed-identity endpoint (App Service protocol, api-version 2019-08-01)', () => {
  it('answers the documented fields, with a token Entra-shaped and signed by the local issuer', async () => {
    const answer = await call(
      tokenUrl('api-version=2019-08-01&resource=https://communication.azure.com'),
      { headers: header() },
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = answer.json as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'client_id', 'expires_on', 'not_before', 'resource', 'token_type'].sort(),
    );
    expect(body).toMatchObject({
      resource: 'https://communication.azure.com',
      token_type: 'Bearer',
      client_id: stack.systemAssigned.clientId,
    });
    expect(body.expires_on).toMatch(/^\d+$/);
    const payload = await verifyWithJwks(
      body.access_token ?? '',
      `${stack.issuerUrl}/.well-known/jwks.json`,
    );
    expect(payload.iss).toBe(`https://sts.windows.net/${stack.tenantId}/`);
    expect(payload).toMatchObject({
      aud: 'https://communication.azure.com',
      tid: stack.tenantId,
      oid: stack.systemAssigned.principalId,
      sub: stack.systemAssigned.principalId,
      appid: stack.systemAssigned.clientId,
      idtyp: 'app',
      ver: '1.0',
    });
    expect(payload.exp).toBe(Number(body.expires_on));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(86_400);
  });

  it.each([
    ['no X-IDENTITY-HEADER', 'api-version=2019-08-01&resource=https://storage.azure.com', {}, 401],
    [
      'another X-IDENTITY-HEADER',
      'api-version=2019-08-01&resource=https://storage.azure.com',
      { 'x-identity-header': 'guessed' },
      401,
    ],
    [
      'the 2017 api-version',
      'api-version=2017-09-01&resource=https://storage.azure.com',
      null,
      400,
    ],
    ['no resource', 'api-version=2019-08-01', null, 400],
    [
      'an identity the app does not hold',
      'api-version=2019-08-01&resource=https://storage.azure.com&client_id=11111111-1111-1111-1111-111111111111',
      null,
      400,
    ],
    [
      'two identity selectors',
      `api-version=2019-08-01&resource=https://storage.azure.com&client_id=a&mi_res_id=b`,
      null,
      400,
    ],
  ])('refuses %s with the platform error shape', async (_what, query, headers, status) => {
    const answer = await call(tokenUrl(query), { headers: headers ?? header() });
    expect(answer.status).toBe(status);
    expect(answer.json).toEqual({
      statusCode: status,
      message: expect.any(String) as string,
      correlationId: answer.headers.get('x-correlation-id'),
    });
  });

  it('names the unknown identity the way App Service does', async () => {
    const answer = await call(
      tokenUrl(
        'api-version=2019-08-01&resource=https://storage.azure.com&principal_id=00000000-0000-0000-0000-000000000001',
      ),
      { headers: header() },
    );
    expect((answer.json as { message: string }).message).toBe(
      'Unable to load the proper Managed Identity.',
    );
  });

  it('answers only GET on its own path', async () => {
    const post = await call(tokenUrl('api-version=2019-08-01&resource=x'), {
      method: 'POST',
      headers: header(),
    });
    expect(post.status).toBe(405);
    const other = await call(stack.endpoint.replace(TOKEN_PATH, '/oauth2/token'), {
      headers: header(),
    });
    expect(other.status).toBe(404);
  });

  it('is what @azure/identity ManagedIdentityCredential reads (the request msal-node builds)', () => {
    const result = inChild(`
      const { ManagedIdentityCredential } = require('@azure/identity');
      const c = new ManagedIdentityCredential();
      Promise.all([
        c.getToken('https://communication.azure.com//.default'),
        c.getToken('https://storage.azure.com/.default'),
      ]).then(([acs, storage]) => {
        const claims = (t) => JSON.parse(Buffer.from(t.token.split('.')[1], 'base64url'));
        console.log(JSON.stringify({
          acs: claims(acs).aud, storage: claims(storage).aud,
          expiresInS: Math.round((acs.expiresOnTimestamp - Date.now()) / 1000),
        }));
      });
    `) as { acs: string; storage: string; expiresInS: number };
    // The SDK drops "/.default" and asks for the rest, slash included (mapScopesToResource).
    expect(result).toMatchObject({
      acs: 'https://communication.azure.com/',
      storage: 'https://storage.azure.com',
    });
    expect(result.expiresInS).toBeGreaterThan(86_000);
  });
});

describe('the emulator takes Entra ID bearer tokens as ACS does', () => {
  it('creates identities for a principal holding the role, through the unchanged SDK', () => {
    const result = inChild(
      `
      const { CommunicationIdentityClient } = require('@azure/communication-identity');
      const { ManagedIdentityCredential } = require('@azure/identity');
      const client = new CommunicationIdentityClient(process.env.ACS, new ManagedIdentityCredential());
      (async () => {
        const { user, token } = await client.createUserAndToken(['voip']);
        const again = await client.getToken(user, ['chat']);
        await client.revokeTokens(user);
        await client.deleteUser(user);
        console.log(JSON.stringify({ id: user.communicationUserId, token: !!token && !!again.token }));
      })();
    `,
      { ACS: stack.acsEndpoint },
    ) as { id: string; token: boolean };
    expect(result).toEqual({ id: expect.stringMatching(/^8:acs:/) as string, token: true });
  });

  it('keeps taking HMAC-signed requests (the connection string), over HTTPS too', () => {
    const result = inChild(
      `
      const { CommunicationIdentityClient } = require('@azure/communication-identity');
      new CommunicationIdentityClient(process.env.CS).createUser()
        .then((u) => console.log(JSON.stringify(u.communicationUserId)));
    `,
      { CS: stack.connectionString },
    );
    expect(result).toMatch(/^8:acs:/);
  });

  it('refuses expired, foreign-audience, foreign-tenant and foreign-key tokens with 401', async () => {
    const base = {
      aud: 'https://communication.azure.com',
      iss: stack.entraIssuer,
      tid: stack.tenantId,
      oid: stack.systemAssigned.principalId,
    };
    const valid = await minted(base);
    // A signature that verifies, but for other claims: what a forger can copy.
    const [, , otherSignature] = (await minted({ ...base, sub: 'someone-else' })).split('.');
    {
      const cases = {
        // Past the 5-minute skew Entra's resources allow.
        expired: await minted({ ...base, expiresInSeconds: -600 }),
        storageAudience: await miToken('https://storage.azure.com'),
        otherTenant: await minted({
          ...base,
          iss: 'https://sts.windows.net/00000000-0000-0000-0000-00000000beef/',
        }),
        forgedSignature: `${valid.split('.').slice(0, 2).join('.')}.${otherSignature ?? ''}`,
        notAJwt: 'not-a-token',
      };
      for (const [name, token] of Object.entries(cases)) {
        const answer = await createIdentity(token);
        expect({ name, status: answer.status, body: answer.json }).toEqual({
          name,
          status: 401,
          body: {
            error: {
              code: 'InvalidAuthenticationToken',
              message: expect.stringMatching(/^The access token is not valid: /) as string,
            },
          },
        });
      }
      // Control: the same claims, signed by the trusted keys, in time, are accepted.
      expect((await createIdentity(valid)).status).toBe(201);
    }
  });

  it('answers 403 to a principal without the role, and takes it again once the role is back', async () => {
    const token = await miToken('https://communication.azure.com');
    const oid = stack.systemAssigned.principalId;
    const roles = `${stack.emulatorUrl}/admin/roles`;
    expect((await httpsCall(roles)).json).toEqual({ role: 'Contributor', principals: [oid] });
    expect((await httpsCall(`${roles}/${oid}`, { method: 'DELETE' })).status).toBe(204);
    try {
      const refused = await createIdentity(token);
      expect(refused).toEqual({
        status: 403,
        json: { error: { code: 'Forbidden', message: expect.stringContaining(oid) as string } },
      });
    } finally {
      expect((await httpsCall(`${roles}/${oid}`, { method: 'PUT' })).status).toBe(204);
    }
    expect((await createIdentity(token)).status).toBe(201);
  });
});

describe('Azurite over HTTPS with --oauth basic', () => {
  it('takes the managed identity token for Storage and refuses one for another audience', () => {
    const result = inChild(
      `
      const { TableClient } = require('@azure/data-tables');
      const { ManagedIdentityCredential } = require('@azure/identity');
      const url = process.env.TABLES;
      const own = new TableClient(url, 'mitest', new ManagedIdentityCredential());
      const wrong = new TableClient(url, 'mitest', {
        getToken: async () => {
          const t = await new ManagedIdentityCredential().getToken('https://communication.azure.com//.default');
          return t;
        },
      });
      (async () => {
        await own.createTable();
        await own.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
        const read = await own.getEntity('p', 'r');
        let refused = 0;
        try { await wrong.getEntity('p', 'r'); } catch (e) { refused = e.statusCode; }
        console.log(JSON.stringify({ v: read.v, refused }));
      })();
    `,
      { TABLES: stack.tableEndpoint },
    ) as { v: number; refused: number };
    // Storage answers a token it cannot accept with 403 AuthenticationFailed, as Azurite does
    // (StorageErrorFactory.getAuthenticationFailed).
    expect(result).toEqual({ v: 1, refused: 403 });
  });
});

it('tokens decode as app-only v1.0 tokens (control for jwtClaims)', async () => {
  expect(jwtClaims(await miToken('https://storage.azure.com'))).toMatchObject({
    idtyp: 'app',
    ver: '1.0',
  });
});
