import { TeamsTokenRequestSchema } from '../contracts/teams';
import { readJsonBody } from '../http/readJson';
import { json } from '../http/respond';
import { validate } from '../http/validate';
import { protectedRoute } from './route';

/**
 * `POST /api/token/teams`: a Teams user's Entra ID token for an ACS token of that user. Guarded
 * and rate-limited like `/api/token`; ACS itself checks the Entra token (`getTokenForTeamsUser`).
 */
export const teamsToken = protectedRoute(
  { name: 'teamsToken', route: 'token/teams', methods: ['POST'] },
  (services) =>
    async ({ request, facts }) => {
      const { token, appId, userId } = validate(
        TeamsTokenRequestSchema,
        await readJsonBody(request),
      );
      const exchanged = await services
        .forRequest(facts)
        .identity.exchangeTeamsToken(token, appId, userId);
      return json(200, { token: exchanged.token, expiresOn: exchanged.expiresOn.toISOString() });
    },
);
