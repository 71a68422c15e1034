import type { HttpRequest } from '@azure/functions';
import type { Caller } from '../domain/caller';
import { AppError } from '../domain/errors';
import { bearerFailureReason, type BearerVerifier } from '../domain/bearer';
import type { RequestFacts } from './requestFacts';

/** The identity provider name App Service gives Microsoft Entra ID principals. */
export const ENTRA_PROVIDER = 'aad';

/**
 * The ID token App Service forwards for a signed-in session when its token store is on
 * (learn.microsoft.com/azure/app-service/configure-authentication-oauth-tokens, "Retrieve tokens
 * in app code": `X-MS-TOKEN-AAD-ID-TOKEN`).
 */
export const ENTRA_ID_TOKEN_HEADER = 'x-ms-token-aad-id-token';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Defence in depth for easyauth mode (EASY_AUTH_TOKEN_ISSUER). The `X-MS-CLIENT-PRINCIPAL*`
 * headers are only as good as the platform that strips client-sent copies; where that is not
 * shown (Flex Consumption: docs/platform-parity.md), anyone could name any principal. A token
 * that Entra ID signed cannot be forged: this check asks for one, verified against Entra's keys
 * (issuer, audience = the app registration, expiry), naming the very principal in the headers:
 *
 * - a signed-in session: the ID token App Service forwards in `X-MS-TOKEN-AAD-ID-TOKEN`;
 * - a bearer caller (mobile app, daemon): the access token App Service validated and passes on in
 *   `Authorization`.
 *
 * The principal must be an Entra one (`aad`) whose id is the token's `oid` (App Service's id for
 * Entra principals) or `sub`. Anything else is a 401, and the reason goes to the log record.
 */
export class EasyAuthProof {
  constructor(private readonly verifier: BearerVerifier) {}

  async check(request: HttpRequest, caller: Caller, facts: RequestFacts): Promise<void> {
    if (caller.kind !== 'principal') return;
    if (caller.provider !== ENTRA_PROVIDER) {
      throw refused(facts, 'principal not from Entra ID');
    }
    const token = tokenOf(request);
    if (!token) throw refused(facts, 'no platform token');
    let identity;
    try {
      identity = await this.verifier.verify(token);
    } catch (err) {
      const reason = bearerFailureReason(err);
      // An unreachable Entra (503) stays what it is; a bad token is "no proof".
      if (reason === undefined || !(err instanceof AppError) || err.code !== 'invalid_token') {
        throw err;
      }
      throw refused(facts, `platform token: ${reason}`);
    }
    if (caller.id !== identity.objectId && caller.id !== identity.subject) {
      throw refused(facts, 'platform token names another principal');
    }
  }
}

function tokenOf(request: HttpRequest): string | undefined {
  const idToken = request.headers.get(ENTRA_ID_TOKEN_HEADER)?.trim();
  if (idToken) return idToken;
  return BEARER.exec(request.headers.get('authorization') ?? '')?.[1];
}

function refused(facts: RequestFacts, reason: string): AppError {
  facts.authFailure = `easyauth proof: ${reason}`;
  return new AppError(
    'unauthenticated',
    'Sign in again: the sign-in could not be confirmed with Microsoft Entra ID.',
  );
}
