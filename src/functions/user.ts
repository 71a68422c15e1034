import { IdentityTargetSchema, type UserResponse } from '../contracts/token';
import { deleteUser, findUser } from '../domain/userLifecycle';
import { readIdentityTarget } from '../http/requestInput';
import { json, noContent } from '../http/respond';
import { validate } from '../http/validate';
import { protectedRoute } from './route';

/** `GET /api/user` → the caller's identity; `DELETE /api/user` → delete it (idempotent). */
export const user = protectedRoute(
  { name: 'user', route: 'user', methods: ['GET', 'DELETE'] },
  (services) =>
    async ({ request, facts, caller }) => {
      const access = services.forRequest(facts);
      if (request.method === 'GET') {
        const found: UserResponse = { communicationUserId: await findUser(access, caller) };
        return json(200, found);
      }
      const target = validate(IdentityTargetSchema, await readIdentityTarget(request));
      await deleteUser(access, caller, target.communicationUserId);
      return noContent();
    },
);
