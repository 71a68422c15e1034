import { principalKey, type Caller } from './caller';
import type { CallerIdentities } from './callerIdentities';
import { AppError } from './errors';
import type { IdentityService, IssuedIdentity } from './identityService';
import type { TokenGrant } from './tokenPolicy';

/** How the domain reaches ACS identities for one request. */
export interface IdentityAccess {
  identity: IdentityService;
  /** One ACS identity per signed-in principal; present in easyauth mode. */
  callers: CallerIdentities | undefined;
}

/**
 * Where a signed-in principal's own identity is kept, for a principal that asks about it: one only
 * ever acts on its own identity, so naming one (`communicationUserId`) is refused with `refusal`.
 * Config guarantees the identity map in every mode that has principals.
 */
export function ownIdentity(
  access: IdentityAccess,
  principal: Extract<Caller, { kind: 'principal' }>,
  communicationUserId?: string,
  refusal = 'Signed-in callers act only on their own identity; leave out communicationUserId.',
): { callers: CallerIdentities; key: string } {
  if (communicationUserId !== undefined) throw new AppError('forbidden', refusal);
  if (!access.callers) throw new Error('principal caller without an identity map');
  return { callers: access.callers, key: principalKey(principal) };
}

/**
 * Issues a token for the caller.
 * - A signed-in principal always gets a token for its own, single ACS identity.
 * - A key holder (a trusted backend) either names an identity it already has, or gets a new
 *   identity and its first token in one ACS round trip (`createUserAndToken`).
 */
export async function issueToken(
  access: IdentityAccess,
  caller: Caller,
  grant: TokenGrant,
  communicationUserId?: string,
): Promise<IssuedIdentity> {
  if (caller.kind === 'principal') {
    const own = ownIdentity(
      access,
      caller,
      communicationUserId,
      'Signed-in callers get tokens only for their own identity; leave out communicationUserId.',
    );
    return own.callers.token(own.key, grant);
  }
  if (communicationUserId !== undefined) {
    const accessToken = await access.identity.getToken(
      communicationUserId,
      grant.scopes,
      grant.expiresInMinutes,
    );
    return { communicationUserId, accessToken };
  }
  return access.identity.createUserAndToken(grant.scopes, grant.expiresInMinutes);
}
