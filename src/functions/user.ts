import { app } from '@azure/functions';
import { IdentityTargetSchema } from '../contracts/token';
import { deleteUser, findUser } from '../domain/userLifecycle';
import { admitCaller, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readIdentityTarget } from '../http/requestInput';
import { json, noContent } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/** `GET /api/user` → the caller's identity; `DELETE /api/user` → delete it (idempotent). */
export const userHandler = endpoint(['GET', 'DELETE'], async (request, _context, facts) => {
  const deps = services();
  const caller = await admitCaller(request, deps, facts);
  const acs = deps.forRequest(facts);
  if (request.method === 'GET') return json(200, await findUser(acs, caller));
  const { communicationUserId } = validate(IdentityTargetSchema, await readIdentityTarget(request));
  await deleteUser(acs, caller, communicationUserId);
  return noContent();
});

app.http('user', {
  route: 'user',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(),
  handler: userHandler,
});
