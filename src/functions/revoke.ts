import { IdentityTargetSchema } from '../contracts/token';
import { revokeTokens } from '../domain/userLifecycle';
import { readIdentityTarget } from '../http/requestInput';
import { noContent } from '../http/respond';
import { validate } from '../http/validate';
import { protectedRoute } from './route';

/** `POST /api/token/revoke`: revokes every token of the caller's identity (204). */
export const revoke = protectedRoute(
  { name: 'revoke', route: 'token/revoke', methods: ['POST'] },
  (services) =>
    async ({ request, facts, caller }) => {
      const target = validate(IdentityTargetSchema, await readIdentityTarget(request));
      await revokeTokens(services.forRequest(facts), caller, target.communicationUserId);
      return noContent();
    },
);
