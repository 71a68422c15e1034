import * as z from 'zod/mini';
import type { IssuedIdentity } from '../domain/identityService';
import { ACS_MAX_EXPIRY_MINUTES, ACS_MIN_EXPIRY_MINUTES, ACS_SCOPES } from '../domain/scopes';

// The contracts use zod's tree-shakable "mini" API: the full one costs ~45 ms more at cold start.

export const AcsScopeSchema = z.enum(ACS_SCOPES, {
  // Only a string is quoted back: stringifying any other input (a deeply nested array fits in
  // the 16 KiB body) could overflow the stack and turn a 400 into a 500.
  error: (issue) =>
    typeof issue.input === 'string'
      ? `unknown scope ${JSON.stringify(issue.input.slice(0, 64))}; allowed: ${ACS_SCOPES.join(', ')}`
      : `must be a scope name; allowed: ${ACS_SCOPES.join(', ')}`,
});

/**
 * No item twice: the check, and the same rule in JSON Schema's words for the published document.
 * z.toJSONSchema cannot see into a refine, so the two travel together or not at all.
 */
function uniqueItems<T>(error: string) {
  return [
    z.refine<T[]>((items) => new Set(items).size === items.length, { error }),
    z.meta({ uniqueItems: true }),
  ] as const;
}

const ScopesSchema = z
  .array(AcsScopeSchema, { error: 'must be an array of scope names' })
  .check(
    z.minLength(1, { error: 'must name at least one scope' }),
    ...uniqueItems<string>('must not repeat a scope'),
  );

const expiryRange = `must be between ${ACS_MIN_EXPIRY_MINUTES} and ${ACS_MAX_EXPIRY_MINUTES}`;
const ExpiresInMinutesSchema = z
  .int({
    error: (issue) =>
      issue.expected === 'int'
        ? 'must be a whole number of minutes'
        : 'must be a number of minutes',
  })
  .check(
    z.gte(ACS_MIN_EXPIRY_MINUTES, { error: expiryRange }),
    z.lte(ACS_MAX_EXPIRY_MINUTES, { error: expiryRange }),
  );

/**
 * ACS identity ids look like `8:acs:<resource id>_<guid>` (`8:gcch-acs:…`, `8:dod-acs:…` in
 * government clouds). Only the shape is checked; ACS itself says whether the identity exists.
 */
const CommunicationUserIdSchema = z.string({ error: 'must be a string' }).check(
  z.maxLength(256, { error: 'is too long' }),
  z.regex(/^8:[a-z0-9-]+:[A-Za-z0-9_.-]+$/, {
    error: 'must be an ACS identity id such as 8:acs:<resource>_<guid>',
  }),
);

/** Body of `POST /api/token`; every field is optional. */
export const TokenRequestSchema = z.strictObject(
  {
    scopes: z.optional(ScopesSchema),
    expiresInMinutes: z.optional(ExpiresInMinutesSchema),
    /** Key mode only: a fresh token for an identity the calling backend already holds. */
    communicationUserId: z.optional(CommunicationUserIdSchema),
  },
  { error: 'must be a JSON object' },
);
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export const TokenResponseSchema = z.object({
  user: z.object({ communicationUserId: z.string() }),
  token: z.string().check(z.describe('The ACS user access token (a JWT); treat it as a secret')),
  expiresOn: z.iso.datetime(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** The one place a token the domain issued becomes the body of a 200 from `/api/token`. */
export function toTokenResponse(issued: IssuedIdentity): TokenResponse {
  return {
    user: { communicationUserId: issued.communicationUserId },
    token: issued.accessToken.token,
    expiresOn: issued.accessToken.expiresOn.toISOString(),
  };
}

/** Body of `POST /api/token/revoke` and the target of `DELETE /api/user` in key mode. */
export const IdentityTargetSchema = z.strictObject(
  { communicationUserId: z.optional(CommunicationUserIdSchema) },
  { error: 'must be a JSON object' },
);
export type IdentityTarget = z.infer<typeof IdentityTargetSchema>;

export const UserResponseSchema = z.object({ communicationUserId: z.string() });
export type UserResponse = z.infer<typeof UserResponseSchema>;
