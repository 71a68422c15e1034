import * as z from 'zod/mini';

/** The audience `dev/start.ts` gives the app in jwt mode, and the default of `POST /dev/token`. */
export const DEV_AUDIENCE = 'api://acs-token-service';

const DAY_SECONDS = 86_400;
const text = z.string().check(z.minLength(1), z.maxLength(512));

/**
 * `POST /dev/token`. `expiresInSeconds` and `notBeforeInSeconds` may be negative, and `iss` may
 * name another issuer, so tests can mint expired, not-yet-valid and foreign-tenant tokens.
 */
export const TokenRequestSchema = z.strictObject({
  sub: text,
  roles: z.optional(z.array(text).check(z.maxLength(64))),
  aud: z.optional(z.union([text, z.array(text).check(z.minLength(1), z.maxLength(16))])),
  appid: z.optional(text),
  oid: z.optional(text),
  scp: z.optional(text),
  tid: z.optional(text),
  iss: z.optional(text),
  expiresInSeconds: z.optional(
    z.int().check(
      z.gte(-DAY_SECONDS),
      z.lte(DAY_SECONDS),
      z.refine((n) => n !== 0),
    ),
  ),
  notBeforeInSeconds: z.optional(z.int().check(z.gte(-DAY_SECONDS), z.lte(DAY_SECONDS))),
});

export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export const RolloverRequestSchema = z.strictObject({ retire: z.optional(z.boolean()) });
