import { app } from '@azure/functions';
import { IdentityTargetSchema } from '../contracts/token';
import { revokeTokens } from '../domain/userLifecycle';
import { callerFrom, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readIdentityTarget } from '../http/requestInput';
import { noContent } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/** `POST /api/token/revoke`: revokes every token of the caller's identity (204). */
export const revokeHandler = endpoint(['POST'], async (request) => {
  const { config, ...deps } = services();
  const caller = callerFrom(request, config.authMode);
  const { communicationUserId } = validate(IdentityTargetSchema, await readIdentityTarget(request));
  await revokeTokens(deps, caller, communicationUserId);
  return noContent();
});

app.http('revoke', {
  route: 'token/revoke',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(),
  handler: revokeHandler,
});
