import { z } from 'zod';

/** Every scope ACS can put in a user access token. */
export const ACS_SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] as const;
export type AcsScope = (typeof ACS_SCOPES)[number];

/** ACS refuses token lifetimes outside 1 h..24 h. */
export const ACS_MIN_EXPIRY_MINUTES = 60;
export const ACS_MAX_EXPIRY_MINUTES = 1440;

export const AcsScopeSchema = z.enum(ACS_SCOPES, {
  // Only a string is quoted back: stringifying any other input (a 7,000-deep array fits in the
  // 16 KiB body) can overflow the stack and turn a 400 into a 500.
  error: (issue) =>
    typeof issue.input === 'string'
      ? `unknown scope ${JSON.stringify(issue.input)}; allowed: ${ACS_SCOPES.join(', ')}`
      : `must be a scope name; allowed: ${ACS_SCOPES.join(', ')}`,
});

export const ScopesSchema = z
  .array(AcsScopeSchema, { error: 'must be an array of scope names' })
  .min(1, { error: 'must name at least one scope' })
  .refine((scopes) => new Set(scopes).size === scopes.length, {
    error: 'must not repeat a scope',
  });

export const ExpiresInMinutesSchema = z
  .number({ error: 'must be a number of minutes' })
  .int({ error: 'must be a whole number of minutes' })
  .min(ACS_MIN_EXPIRY_MINUTES, {
    error: `must be between ${ACS_MIN_EXPIRY_MINUTES} and ${ACS_MAX_EXPIRY_MINUTES}`,
  })
  .max(ACS_MAX_EXPIRY_MINUTES, {
    error: `must be between ${ACS_MIN_EXPIRY_MINUTES} and ${ACS_MAX_EXPIRY_MINUTES}`,
  });

/**
 * ACS identity ids look like `8:acs:<resource id>_<guid>` (`8:gcch-acs:…`, `8:dod-acs:…` in
 * government clouds). Only the shape is checked; ACS itself says whether the identity exists.
 */
export const CommunicationUserIdSchema = z
  .string({ error: 'must be a string' })
  .max(256, { error: 'is too long' })
  .regex(/^8:[a-z0-9-]+:[A-Za-z0-9_.-]+$/, {
    error: 'must be an ACS identity id such as 8:acs:<resource>_<guid>',
  });

/** Body of `POST /api/token`; every field is optional. */
export const TokenRequestSchema = z.strictObject(
  {
    scopes: ScopesSchema.optional(),
    expiresInMinutes: ExpiresInMinutesSchema.optional(),
    /** Key mode only: a fresh token for an identity the calling backend already holds. */
    communicationUserId: CommunicationUserIdSchema.optional(),
  },
  { error: 'must be a JSON object' },
);
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export const TokenResponseSchema = z.object({
  user: z.object({ communicationUserId: z.string() }),
  token: z.string(),
  expiresOn: z.iso.datetime(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** Body of `POST /api/token/revoke` and the target of `DELETE /api/user` in key mode. */
export const IdentityTargetSchema = z.strictObject(
  { communicationUserId: CommunicationUserIdSchema.optional() },
  { error: 'must be a JSON object' },
);
export type IdentityTarget = z.infer<typeof IdentityTargetSchema>;

export const UserResponseSchema = z.object({ communicationUserId: z.string() });
export type UserResponse = z.infer<typeof UserResponseSchema>;
