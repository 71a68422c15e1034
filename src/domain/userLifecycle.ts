import type { Caller } from './caller';
import type { CallerIdentities } from './callerIdentities';
import { AppError, isIdentityNotFound } from './errors';
import type { IdentityService } from './identityService';
import { ownIdentity, type IdentityAccess } from './issueToken';

/** The caller's ACS identity. Key mode keeps no mapping: the calling backend holds it. */
export async function findUser(access: IdentityAccess, caller: Caller): Promise<string> {
  if (caller.kind !== 'principal') {
    throw new AppError(
      'not_found',
      'Key mode keeps no caller-to-identity mapping; your backend holds the communicationUserId.',
    );
  }
  const own = ownIdentity(access, caller);
  const id = await own.callers.find(own.key);
  if (!id)
    throw new AppError('not_found', 'You have no ACS identity yet; POST /api/token creates one.');
  return id;
}

/** Deletes the identity (which revokes its tokens) and its mapping. Deleting twice is fine. */
export function deleteUser(
  access: IdentityAccess,
  caller: Caller,
  communicationUserId?: string,
): Promise<void> {
  return actOnIdentity(access, caller, communicationUserId, {
    ofPrincipal: (callers, key) => callers.remove(key),
    named: async (identity, id) => {
      try {
        await identity.deleteUser(id);
      } catch (err) {
        if (!isIdentityNotFound(err)) throw err;
      }
    },
  });
}

/** Revokes every token of the identity; ACS may take up to 15 minutes to enforce it everywhere. */
export function revokeTokens(
  access: IdentityAccess,
  caller: Caller,
  communicationUserId?: string,
): Promise<void> {
  return actOnIdentity(access, caller, communicationUserId, {
    ofPrincipal: (callers, key) => callers.revoke(key),
    named: (identity, id) => identity.revokeTokens(id),
  });
}

/**
 * A signed-in principal acts only on its own identity (through the identity map); a key holder
 * must name the identity it acts on.
 */
async function actOnIdentity(
  access: IdentityAccess,
  caller: Caller,
  communicationUserId: string | undefined,
  act: {
    ofPrincipal: (callers: CallerIdentities, principalKey: string) => Promise<void>;
    named: (identity: IdentityService, communicationUserId: string) => Promise<void>;
  },
): Promise<void> {
  if (caller.kind === 'principal') {
    const own = ownIdentity(access, caller, communicationUserId);
    return act.ofPrincipal(own.callers, own.key);
  }
  if (communicationUserId === undefined) {
    throw new AppError('invalid_request', 'communicationUserId is required with a function key.', {
      errors: [{ field: 'communicationUserId', message: 'is required' }],
    });
  }
  return act.named(access.identity, communicationUserId);
}
