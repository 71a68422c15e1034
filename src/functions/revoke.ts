import { app } from '@azure/functions';
import { IdentityTargetSchema } from '../contracts/token';
import { revokeTokens } from '../domain/userLifecycle';
import { admitCaller, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readIdentityTarget } from '../http/requestInput';
import { noContent } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/** `POST /api/token/revoke`: revokes every token of the caller's identity (204). */
const revokeHandler = endpoint(['POST'], async (request, _context, facts) => {
  const current = services();
  const caller = admitCaller(request, current, facts);
  const { communicationUserId } = validate(IdentityTargetSchema, await readIdentityTarget(request));
  await revokeTokens(current.forRequest(facts), caller, communicationUserId);
  return noContent();
});

app.http('revoke', {
  route: 'token/revoke',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(services().config.authMode),
  handler: revokeHandler,
});
