import type { JWTPayload, JWTVerifyGetKey } from 'jose';

import type { RequestBody } from './acs';
import { AcsError, FieldAcsError, badRequest, invalidJson } from './errors';

/**
 * The Teams-user token exchange (`POST /teamsUser/:exchangeAccessToken`), checked as ACS checks
 * it. ACS takes an Entra ID access token of a Teams user and answers with an ACS token "with a
 * matching expiration time" (azure-rest-api-specs,
 * specification/communication/data-plane/Identity/stable/2023-10-01/CommunicationIdentity.json,
 * operation TeamsUser_ExchangeTeamsUserAccessToken; the same words in the SDK's
 * getTokenForTeamsUser JSDoc, azure-sdk-for-js sdk/communication/communication-identity/src/
 * communicationIdentityClient.ts), capped at the 24 hours an ACS token may live
 * (https://learn.microsoft.com/azure/communication-services/concepts/identity-model).
 *
 * Statuses and bodies follow the SDK's recorded sessions (azure-sdk-for-js
 * sdk/communication/communication-identity/recordings/node/get_token_for_teams_user_playbacklive/
 * and test/public/node/getTokenForTeamsUser.node.spec.ts): an empty, invalid or expired token is
 * 401 `InvalidAccessToken` "Provided access token is not valid."; an empty, malformed or wrong
 * appId / userId is 400 `ValidationError` with `target` naming the field ("Provided AppId has
 * invalid format."). The recordings sanitize the mismatch case, so its message here is ours.
 *
 * Here the "Entra ID" is the local OpenID Connect issuer (dev/issuer): the token must be signed
 * by a key of its JWKS, with its `iss`, the ACS audience, both Teams delegated scopes, and
 * `appid` / `oid` equal to appId / userId. Without a configured issuer no token is valid.
 */
export const TEAMS_TOKEN_AUDIENCE = 'https://auth.msft.communication.azure.com';
export const TEAMS_DELEGATED_SCOPES = ['Teams.ManageCalls', 'Teams.ManageChats'] as const;
/** ACS tokens live at most 24 hours. */
const MAX_ACS_TOKEN_SECONDS = 24 * 3600;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ExchangedTeamsToken {
  /** The Teams user's Entra object id (the ACS identity is `8:orgid:<userId>`). */
  userId: string;
  /** When the ACS token expires: the Entra token's `exp`, at most 24 hours from now. */
  expiresAtSeconds: number;
}

const invalidAccessToken = (): AcsError =>
  new AcsError(401, 'InvalidAccessToken', 'Provided access token is not valid.');

export class TeamsTokenExchange {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  /** `issuer`: the OpenID Connect issuer standing in for Entra ID; none means no token is valid. */
  constructor(private readonly issuer: string | undefined) {}

  async verify(body: RequestBody, nowMs: number): Promise<ExchangedTeamsToken> {
    if (body.kind === 'invalid') throw invalidJson();
    if (body.kind === 'empty') throw badRequest('A JSON request body is required.');
    const request = body.value;
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      throw badRequest('The request body must be a JSON object.');
    }
    const { token, appId, userId } = request as Record<string, unknown>;
    if (typeof appId !== 'string' || !GUID.test(appId)) {
      throw new FieldAcsError('Provided AppId has invalid format.', 'appId');
    }
    if (typeof userId !== 'string' || !GUID.test(userId)) {
      throw new FieldAcsError('Provided UserId has invalid format.', 'userId');
    }
    if (typeof token !== 'string' || token === '' || this.issuer === undefined) {
      throw invalidAccessToken();
    }
    const claims = await this.validClaims(token, nowMs);
    if (!sameGuid(claims.appid, appId)) {
      throw new FieldAcsError("Provided AppId doesn't match the token's appid claim.", 'appId');
    }
    if (!sameGuid(claims.oid, userId)) {
      throw new FieldAcsError("Provided UserId doesn't match the token's oid claim.", 'userId');
    }
    const nowSeconds = Math.floor(nowMs / 1000);
    return {
      userId: userId.toLowerCase(),
      expiresAtSeconds: Math.min(claims.exp ?? nowSeconds, nowSeconds + MAX_ACS_TOKEN_SECONDS),
    };
  }

  /** Signature, issuer, audience, lifetime and scopes; anything wrong is InvalidAccessToken. */
  private async validClaims(token: string, nowMs: number): Promise<JWTPayload> {
    // Loaded here: jose is ESM-only, and the rest of the emulator must load through require().
    const jose = await import('jose');
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, await this.keySet(jose), {
        issuer: this.issuer,
        audience: TEAMS_TOKEN_AUDIENCE,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'oid', 'appid', 'scp'],
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      if (err instanceof jose.errors.JOSEError && !(err instanceof jose.errors.JWKSTimeout)) {
        throw invalidAccessToken();
      }
      throw new AcsError(503, 'ServiceUnavailable', 'The token issuer could not be reached.', {
        'retry-after': '1',
      });
    }
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
    if (!TEAMS_DELEGATED_SCOPES.every((s) => scopes.includes(s))) throw invalidAccessToken();
    return payload;
  }

  private keySet(jose: typeof import('jose')): Promise<JWTVerifyGetKey> {
    const issuer = this.issuer ?? '';
    this.keys ??= fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`)
      .then((res) => res.json() as Promise<{ jwks_uri?: unknown }>)
      .then(({ jwks_uri }) => {
        if (typeof jwks_uri !== 'string') throw new Error('the issuer publishes no jwks_uri');
        return jose.createRemoteJWKSet(new URL(jwks_uri));
      });
    this.keys.catch(() => (this.keys = undefined));
    return this.keys;
  }
}

function sameGuid(claim: unknown, value: string): boolean {
  return typeof claim === 'string' && claim.toLowerCase() === value.toLowerCase();
}
