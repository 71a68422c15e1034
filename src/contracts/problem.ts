import * as z from 'zod/mini';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors';
import { ACS_OPERATION_CLASSES } from '../domain/identityService';

const CODES = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

/** The RFC 9457 body of every error answer the app itself sends. */
export const ProblemSchema = z.object({
  type: z
    .string()
    .check(z.describe('Stable URI of the problem type: urn:acs-token-service:problem:<code>')),
  title: z.string(),
  status: z.int().check(z.gte(400), z.lte(599)),
  detail: z.string().check(z.describe('What went wrong, for a person; never contains a secret')),
  code: z.enum(CODES),
  instance: z.optional(z.string()),
  invocationId: z.optional(
    z.string().check(z.describe('Quote it when asking for help: it finds the log record')),
  ),
  errors: z.optional(z.array(z.object({ field: z.string(), message: z.string() }))),
});

export type ProblemBody = z.infer<typeof ProblemSchema>;

export const HealthSchema = z.object({
  status: z.enum(['ready', 'degraded']),
  acs: z.object({
    reachable: z.boolean(),
    latencyMs: z.number(),
    checkedAt: z.iso.datetime(),
    auth: z.enum(['connectionString', 'managedIdentity']),
    /** ACS operations this instance holds back after a 429, with the seconds left. */
    throttled: z.array(
      z.object({
        operation: z.enum(ACS_OPERATION_CLASSES),
        retryAfterSeconds: z.int(),
      }),
    ),
  }),
  /** Whether each client a token request needs could be built (identityMap: easyauth mode). */
  checks: z.object({
    acsClient: z.boolean(),
    identityMap: z.optional(z.boolean()),
  }),
});
