import { app } from '@azure/functions';
import { TokenRequestSchema, toTokenResponse } from '../contracts/token';
import { issueToken } from '../domain/issueToken';
import { admitCaller, protectedAuthLevel } from '../http/caller';
import { ALL_METHODS, endpoint } from '../http/endpoint';
import { readTokenInput } from '../http/requestInput';
import { json } from '../http/respond';
import { validate } from '../http/validate';
import { services } from '../runtime';

/** `POST /api/token` (and its address-bar twin `GET /api/token?scopes=…`). */
export const tokenHandler = endpoint(['GET', 'POST'], async (request, _context, facts) => {
  const current = services();
  const caller = admitCaller(request, current, facts);
  const { communicationUserId, ...asked } = validate(
    TokenRequestSchema,
    await readTokenInput(request),
  );
  const grant = current.policy.grant(asked, caller);
  facts.scopes = grant.scopes;
  const issued = await issueToken(current.forRequest(facts), caller, grant, communicationUserId);
  return json(200, toTokenResponse(issued));
});

app.http('token', {
  route: 'token',
  methods: ALL_METHODS,
  authLevel: protectedAuthLevel(services().config.authMode),
  handler: tokenHandler,
});
