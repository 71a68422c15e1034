import type { AccessTokenClaims as JwtClaims } from '../../dev/emulator/tokens';
import {
  acsError,
  decodeClaims,
  emu,
  failure,
  ID_PATTERN,
  introspect,
  RESOURCE_ID,
  sdk,
  TEAMS_APP_ID,
  TEAMS_USER_ID,
  useSuiteEmulator,
  verifyWithJose,
  ZERO_COUNTS,
} from '../support/emulatorSuite';

useSuiteEmulator();

describe('ACS emulator through the real SDK', () => {
  it('creates a user and a token that verifies against the JWKS with the requested claims', async () => {
    const result = await sdk().createUserAndToken(['chat', 'voip'], { tokenExpiresInMinutes: 60 });
    const id = result.user.communicationUserId;
    expect(id).toMatch(ID_PATTERN);

    const verified = await verifyWithJose(result.token);
    expect(verified.error).toBeUndefined();
    const claims = verified.payload as JwtClaims;
    const jwks = (await (await fetch(emu.jwksUrl)).json()) as { keys: { kid: string }[] };
    expect(verified.header).toEqual({ alg: 'RS256', kid: jwks.keys[0]?.kid, typ: 'JWT' });
    expect(claims).toEqual({
      sub: id,
      skypeid: id.slice('8:'.length),
      acsScope: 'chat,voip',
      scp: ['chat', 'voip'],
      iat: claims.iat,
      exp: claims.iat + 3600,
      jti: claims.jti,
      iss: emu.url,
      resourceId: RESOURCE_ID,
    });
    expect(claims.exp * 1000).toBe(result.expiresOn.getTime());
    expect(Math.abs(claims.iat * 1000 - Date.now())).toBeLessThan(5000);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUserAndToken: 1 });
  });

  it('issues tokens that fail jose verification once tampered with', async () => {
    const { token } = await sdk().createUserAndToken(['chat']);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, scp: ['chat', 'voip'] })).toString(
      'base64url',
    );
    const verified = await verifyWithJose(`${header}.${forged}.${signature}`);
    expect(verified).toEqual({ error: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('creates a user, then issues a token with the default 24 h lifetime', async () => {
    const client = sdk();
    const user = await client.createUser();
    expect(user.communicationUserId).toMatch(ID_PATTERN);
    const token = await client.getToken(user, ['voip.join']);
    const claims = decodeClaims(token.token);
    expect(claims.sub).toBe(user.communicationUserId);
    expect(claims.scp).toEqual(['voip.join']);
    expect(claims.exp - claims.iat).toBe(24 * 60 * 60);
    expect(claims.exp * 1000).toBe(token.expiresOn.getTime());
    expect(await introspect(token.token)).toEqual({
      active: true,
      sub: user.communicationUserId,
      scopes: ['voip.join'],
    });
    expect(emu.identities()).toEqual([
      {
        id: user.communicationUserId,
        createdAt: expect.any(String) as unknown,
        deleted: false,
        tokensIssued: 1,
      },
    ]);
    expect(emu.counts()).toEqual({ ...ZERO_COUNTS, createUser: 1, issueAccessToken: 1 });
  });

  it('revokes earlier tokens but not a token issued after the revocation', async () => {
    const client = sdk();
    const { user, token } = await client.createUserAndToken(['chat']);
    await client.revokeTokens(user);
    const fresh = await client.getToken(user, ['chat']);
    expect(await introspect(token)).toEqual({
      active: false,
      reason: 'revoked',
      sub: user.communicationUserId,
      scopes: ['chat'],
    });
    expect(await introspect(fresh.token)).toEqual({
      active: true,
      sub: user.communicationUserId,
      scopes: ['chat'],
    });
    const [identity] = emu.identities();
    expect(identity?.revokedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(identity?.tokensIssued).toBe(2);
  });

  it('answers 401 IdentityNotOwned for an identity of another resource, as ACS does', async () => {
    // The identity the ACS SDK's own error-case tests use: a well-formed id of another resource.
    const foreign = {
      communicationUserId:
        '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000',
    };
    const notOwned = acsError(
      'IdentityNotOwned',
      "Provided identity doesn't belong to the resource.",
    );
    const client = sdk();
    for (const attempt of [
      client.getToken(foreign, ['chat', 'voip']),
      client.revokeTokens(foreign),
      client.deleteUser(foreign),
    ]) {
      const err = await failure(attempt);
      expect([err.statusCode, err.code, err.details]).toEqual([401, 'IdentityNotOwned', notOwned]);
    }
    expect(emu.identities()).toEqual([]);
  });

  it('embeds its resource id in every identity it creates', async () => {
    const { user } = await sdk().createUserAndToken(['chat']);
    expect(user.communicationUserId.startsWith(`8:acs:${RESOURCE_ID}_`)).toBe(true);
    expect(emu.resourceId).toBe(RESOURCE_ID);
  });

  it('forgets a deleted user: later calls get 404 with the ACS error body', async () => {
    const client = sdk();
    const { user, token } = await client.createUserAndToken(['chat']);
    await client.deleteUser(user);
    const id = user.communicationUserId;
    const notFound = acsError('IdentityNotFound', `Identity '${id}' was not found.`);

    const issue = await failure(client.getToken(user, ['chat']));
    expect(issue.statusCode).toBe(404);
    expect(issue.details).toEqual(notFound);
    const revoke = await failure(client.revokeTokens(user));
    expect([revoke.statusCode, revoke.details]).toEqual([404, notFound]);
    const remove = await failure(client.deleteUser(user));
    expect([remove.statusCode, remove.details]).toEqual([404, notFound]);

    expect(await introspect(token)).toEqual({
      active: false,
      reason: 'deleted',
      sub: id,
      scopes: ['chat'],
    });
    expect(emu.identities().map((i) => [i.id, i.deleted])).toEqual([[id, true]]);
  });

  it('refuses every Teams token when no issuer stands in for Entra ID', async () => {
    // The exchange itself, against the local issuer, is in tests/integration/teamsExchange.test.ts.
    const err = await failure(
      sdk().getTokenForTeamsUser({
        teamsUserAadToken: 'aad-token',
        clientId: TEAMS_APP_ID,
        userObjectId: TEAMS_USER_ID,
      }),
    );
    expect([err.statusCode, err.details]).toEqual([
      401,
      acsError('InvalidAccessToken', 'Provided access token is not valid.'),
    ]);
    expect(emu.identities()).toEqual([]);
  });

  it('counts every operation exactly', async () => {
    const client = sdk();
    const a = await client.createUser();
    const b = await client.createUser();
    await client.createUserAndToken(['chat']);
    await client.getToken(a, ['chat']);
    await client.getToken(b, ['voip']);
    await client.getToken(b, ['chat', 'voip']);
    await client.revokeTokens(a);
    await client.deleteUser(b);
    await failure(client.getToken(b, ['chat']));
    await failure(
      client.getTokenForTeamsUser({
        teamsUserAadToken: 't',
        clientId: TEAMS_APP_ID,
        userObjectId: TEAMS_USER_ID,
      }),
    );
    expect(emu.counts()).toEqual({
      createUser: 2,
      createUserAndToken: 1,
      issueAccessToken: 4,
      revokeAccessTokens: 1,
      deleteIdentity: 1,
      exchangeTeamsToken: 1,
      rejected: 0,
    });
  });
});
