import type { UserResponse } from '../contracts/token';
import { principalKey, type Caller } from './caller';
import { AppError } from './errors';
import type { TokenDeps } from './issueToken';

function mapFor(deps: TokenDeps) {
  if (!deps.callers) throw new Error('easyauth caller without an identity map');
  return deps.callers;
}

function requireTarget(communicationUserId: string | undefined): string {
  if (communicationUserId === undefined) {
    throw new AppError('invalid_request', 'communicationUserId is required with a function key.', {
      errors: [{ field: 'communicationUserId', message: 'is required' }],
    });
  }
  return communicationUserId;
}

function refuseTarget(communicationUserId: string | undefined): void {
  if (communicationUserId !== undefined) {
    throw new AppError(
      'forbidden',
      'Signed-in callers act only on their own identity; leave out communicationUserId.',
    );
  }
}

/** The caller's ACS identity. Key mode keeps no mapping: the calling backend holds it. */
export async function findUser(deps: TokenDeps, caller: Caller): Promise<UserResponse> {
  if (caller.kind !== 'principal') {
    throw new AppError(
      'not_found',
      'Key mode keeps no caller-to-identity mapping; your backend holds the communicationUserId.',
    );
  }
  const id = await mapFor(deps).find(principalKey(caller));
  if (!id)
    throw new AppError('not_found', 'You have no ACS identity yet; POST /api/token creates one.');
  return { communicationUserId: id };
}

/** Deletes the identity (which revokes its tokens) and its mapping. Deleting twice is fine. */
export async function deleteUser(
  deps: TokenDeps,
  caller: Caller,
  communicationUserId?: string,
): Promise<void> {
  if (caller.kind === 'principal') {
    refuseTarget(communicationUserId);
    return mapFor(deps).remove(principalKey(caller));
  }
  try {
    await deps.identity.deleteUser(requireTarget(communicationUserId));
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'identity_not_found')) throw err;
  }
}

/** Revokes every token of the identity; ACS may take up to 15 minutes to enforce it everywhere. */
export async function revokeTokens(
  deps: TokenDeps,
  caller: Caller,
  communicationUserId?: string,
): Promise<void> {
  if (caller.kind === 'principal') {
    refuseTarget(communicationUserId);
    return mapFor(deps).revoke(principalKey(caller));
  }
  await deps.identity.revokeTokens(requireTarget(communicationUserId));
}
