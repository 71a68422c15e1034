import type { TokenResponse } from '../contracts/token';
import { principalKey, type Caller } from './caller';
import type { CallerIdentities } from './callerIdentities';
import { AppError } from './errors';
import type { IdentityService } from './identityService';
import type { TokenGrant } from './tokenPolicy';

export interface TokenDeps {
  identity: IdentityService;
  /** Present in easyauth mode. */
  callers: CallerIdentities | undefined;
}

/**
 * Issues a token for the caller.
 * - A signed-in principal always gets a token for its own, single ACS identity.
 * - A key holder (a trusted backend) either names an identity it already has, or gets a new
 *   identity and its first token in one ACS round trip (`createUserAndToken`).
 */
export async function issueToken(
  deps: TokenDeps,
  caller: Caller,
  grant: TokenGrant,
  communicationUserId?: string,
): Promise<TokenResponse> {
  if (caller.kind === 'principal') {
    if (communicationUserId !== undefined) {
      throw new AppError(
        'forbidden',
        'Signed-in callers get tokens only for their own identity; leave out communicationUserId.',
      );
    }
    if (!deps.callers) throw new Error('easyauth caller without an identity map');
    return deps.callers.token(principalKey(caller), grant);
  }
  if (communicationUserId !== undefined) {
    const token = await deps.identity.getToken(
      communicationUserId,
      grant.scopes,
      grant.expiresInMinutes,
    );
    return {
      user: { communicationUserId },
      token: token.token,
      expiresOn: token.expiresOn.toISOString(),
    };
  }
  const issued = await deps.identity.createUserAndToken(grant.scopes, grant.expiresInMinutes);
  return {
    user: { communicationUserId: issued.communicationUserId },
    token: issued.accessToken.token,
    expiresOn: issued.accessToken.expiresOn.toISOString(),
  };
}
