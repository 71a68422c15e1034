import { app } from '@azure/functions';
import { IdentityTargetSchema, type UserResponse } from '../contracts/token';
import { deleteUser, findUser } from '../domain/userLifecycle';
import { admitCaller, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readIdentityTarget } from '../http/requestInput';
import { json, noContent } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/** `GET /api/user` → the caller's identity; `DELETE /api/user` → delete it (idempotent). */
const userHandler = endpoint(['GET', 'DELETE'], async (request, _context, facts) => {
  const current = services();
  const caller = admitCaller(request, current, facts);
  const access = current.forRequest(facts);
  if (request.method === 'GET') {
    const found: UserResponse = { communicationUserId: await findUser(access, caller) };
    return json(200, found);
  }
  const { communicationUserId } = validate(IdentityTargetSchema, await readIdentityTarget(request));
  await deleteUser(access, caller, communicationUserId);
  return noContent();
});

app.http('user', {
  route: 'user',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(services().config.authMode),
  handler: userHandler,
});
