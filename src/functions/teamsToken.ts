import { app } from '@azure/functions';
import { TeamsTokenRequestSchema } from '../contracts/teams';
import { admitCaller, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readJsonBody } from '../http/readJson';
import { json } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/**
 * `POST /api/token/teams`: a Teams user's Entra ID token for an ACS token of that user. Guarded
 * and rate-limited like `/api/token`; ACS itself checks the Entra token (`getTokenForTeamsUser`).
 */
const teamsTokenHandler = endpoint(['POST'], async (request, _context, facts) => {
  const current = services();
  await admitCaller(request, current, facts);
  const { token, appId, userId } = validate(TeamsTokenRequestSchema, await readJsonBody(request));
  const exchanged = await current
    .forRequest(facts)
    .identity.exchangeTeamsToken(token, appId, userId);
  return json(200, { token: exchanged.token, expiresOn: exchanged.expiresOn.toISOString() });
});

app.http('teamsToken', {
  route: 'token/teams',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(services().config.authMode),
  handler: teamsTokenHandler,
});
