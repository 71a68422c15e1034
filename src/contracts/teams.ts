import * as z from 'zod/mini';

const guid = (what: string) =>
  z.string({ error: 'must be a string' }).check(
    z.regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
      error: `must be a GUID (${what})`,
    }),
  );

/** Body of `POST /api/token/teams`: a Teams user's Entra ID access token and who it must name. */
export const TeamsTokenRequestSchema = z.strictObject(
  {
    token: z
      .string({ error: 'must be a string' })
      .check(
        z.minLength(1, { error: 'must not be empty' }),
        z.maxLength(12 * 1024, { error: 'is too long for an access token' }),
        z.describe(
          'Entra ID access token of the Teams user, for the audience https://auth.msft.communication.azure.com with the Teams.ManageCalls and Teams.ManageChats delegated scopes',
        ),
      ),
    appId: guid("the Entra application's client id, checked against the token's appid claim"),
    userId: guid("the Teams user's Entra object id, checked against the token's oid claim"),
  },
  { error: 'must be a JSON object' },
);
export type TeamsTokenRequest = z.infer<typeof TeamsTokenRequestSchema>;

/** ACS answers the exchange with a token and its expiry only (no identity id). */
export const TeamsTokenResponseSchema = z.object({
  token: z
    .string()
    .check(z.describe('The ACS access token of the Teams user; treat it as a secret')),
  expiresOn: z.iso.datetime(),
});
export type TeamsTokenResponse = z.infer<typeof TeamsTokenResponseSchema>;
