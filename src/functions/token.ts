import { TokenRequestSchema, toTokenResponse } from '../contracts/token';
import { issueToken } from '../domain/issueToken';
import { readTokenInput } from '../http/requestInput';
import { json } from '../http/respond';
import { validate } from '../http/validate';
import { protectedRoute } from './route';

/** `POST /api/token` (and its address-bar twin `GET /api/token?scopes=…`). */
export const token = protectedRoute(
  { name: 'token', route: 'token', methods: ['GET', 'POST'] },
  (services) =>
    async ({ request, facts, caller }) => {
      const { communicationUserId, ...asked } = validate(
        TokenRequestSchema,
        await readTokenInput(request),
      );
      const grant = services.policy.grant(asked, caller);
      facts.scopes = grant.scopes;
      const issued = await issueToken(
        services.forRequest(facts),
        caller,
        grant,
        communicationUserId,
      );
      return json(200, toTokenResponse(issued));
    },
);
