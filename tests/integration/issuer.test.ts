import { startEmulator } from '../../dev/emulator';
import { startLocalHost } from '../support/localHost';
import { verifyWithJwks } from '../support/jwt';
import { call, jwtClaims } from '../support/http';
import {
  issuerOfHost,
  issuerStats,
  mintToken,
  rolloverKeys,
  spawnIssuer,
  type IssuerProcess,
} from '../support/issuer';

let issuer: IssuerProcess;
beforeAll(async () => {
  issuer = await spawnIssuer();
});
afterAll(async () => {
  await issuer.stop();
});

const kidOf = (token: string): unknown =>
  (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown })
    .kid;

describe('local OpenID Connect issuer', () => {
  it('listens on loopback and serves discovery naming itself and its JWKS', async () => {
    expect(new URL(issuer.url).hostname).toBe('127.0.0.1');
    const res = await call(`${issuer.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      issuer: issuer.url,
      jwks_uri: `${issuer.url}/.well-known/jwks.json`,
      token_endpoint: `${issuer.url}/dev/token`,
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['none'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'nbf', 'iat', 'roles', 'scp', 'appid', 'oid'],
    });
  });

  it('mints an RS256 access token with the claims asked for, verifiable against its JWKS', async () => {
    const res = await call(`${issuer.url}/dev/token`, {
      method: 'POST',
      json: {
        sub: 'alice',
        roles: ['member'],
        aud: 'api://demo',
        appid: 'app-1',
        oid: 'oid-1',
        scp: 'Teams.ManageCalls Teams.ManageChats',
        expiresInSeconds: 600,
      },
    });
    expect(res.status).toBe(200);
    const body = res.json as { access_token: string; token_type: string; expires_in: number };
    expect(body).toEqual({
      access_token: body.access_token,
      token_type: 'Bearer',
      expires_in: 600,
    });
    const claims = await verifyWithJwks(body.access_token, `${issuer.url}/.well-known/jwks.json`);
    expect(claims).toEqual({
      iss: issuer.url,
      sub: 'alice',
      aud: 'api://demo',
      roles: ['member'],
      appid: 'app-1',
      oid: 'oid-1',
      scp: 'Teams.ManageCalls Teams.ManageChats',
      ver: '1.0',
      iat: claims.iat,
      nbf: claims.iat,
      exp: (claims.iat as number) + 600,
      jti: claims.jti,
    });
    expect(Math.abs((claims.iat as number) * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it('defaults the audience to the one npm start gives the app in jwt mode', async () => {
    const token = await mintToken(issuer.url, { sub: 'bob' });
    expect(jwtClaims(token)).toMatchObject({ aud: 'api://acs-token-service', sub: 'bob' });
  });

  it('mints expired and not-yet-valid tokens on request, for tests', async () => {
    const token = await mintToken(issuer.url, {
      sub: 'carol',
      expiresInSeconds: -120,
      notBeforeInSeconds: 30,
    });
    const claims = jwtClaims(token);
    expect(claims.exp).toBe((claims.iat as number) - 120);
    expect(claims.nbf).toBe((claims.iat as number) + 30);
  });

  it.each([
    ['no sub', {}, 'sub: '],
    ['an unknown field', { sub: 'a', admin: true }, 'body: '],
    ['a zero lifetime', { sub: 'a', expiresInSeconds: 0 }, 'expiresInSeconds: '],
    ['roles that are not strings', { sub: 'a', roles: [1] }, 'roles.0: '],
  ])('answers 400 invalid_request for %s', async (_name, body, where) => {
    const res = await call(`${issuer.url}/dev/token`, { method: 'POST', json: body });
    expect(res.status).toBe(400);
    const err = res.json as { error: string; error_description: string };
    expect(err.error).toBe('invalid_request');
    expect(err.error_description.startsWith(where)).toBe(true);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await call(`${issuer.url}/dev/token`, { method: 'POST', body: '{"sub":' });
    expect(res.status).toBe(400);
  });

  it('rolls its signing key over on demand, keeping the old key published until retired', async () => {
    const before = await mintToken(issuer.url, { sub: 'dave' });
    const oldKid = kidOf(before);
    const newKid = await rolloverKeys(issuer.url);
    expect(newKid).not.toBe(oldKid);
    const after = await mintToken(issuer.url, { sub: 'dave' });
    expect(kidOf(after)).toBe(newKid);
    const jwksUrl = `${issuer.url}/.well-known/jwks.json`;
    await expect(verifyWithJwks(before, jwksUrl)).resolves.toMatchObject({ sub: 'dave' });
    await expect(verifyWithJwks(after, jwksUrl)).resolves.toMatchObject({ sub: 'dave' });

    const retiredAt = await rolloverKeys(issuer.url, true);
    const jwks = (await call(jwksUrl)).json as {
      keys: { kid: string; alg: string; use: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual([retiredAt]);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    await expect(verifyWithJwks(after, jwksUrl)).rejects.toThrow('no key in the JWKS');
  });

  it('counts the discovery and JWKS requests it serves', async () => {
    const before = await issuerStats(issuer.url);
    await call(`${issuer.url}/.well-known/jwks.json`);
    await call(`${issuer.url}/.well-known/openid-configuration`);
    const after = await issuerStats(issuer.url);
    expect(after).toEqual({ ...before, jwks: before.jwks + 1, discovery: before.discovery + 1 });
  });
});

describe('npm start', () => {
  it('starts the local issuer next to the host in key mode, on loopback, and names it', async () => {
    const emulator = await startEmulator({ port: 0 });
    const host = await startLocalHost({ ACS_CONNECTION_STRING: emulator.connectionString });
    try {
      const url = issuerOfHost(host.output());
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const discovery = await call(`${url}/.well-known/openid-configuration`);
      expect((discovery.json as { issuer: string }).issuer).toBe(url);
      await expect(
        verifyWithJwks(await mintToken(url, { sub: 'erin' }), `${url}/.well-known/jwks.json`),
      ).resolves.toMatchObject({ iss: url, sub: 'erin' });
    } finally {
      await host.stop();
      await emulator.close();
    }
  });
});
