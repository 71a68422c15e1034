import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors';

const CODES = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

/** The RFC 9457 body of every error answer the app itself sends. */
export const ProblemSchema = z.object({
  type: z.string().describe('Stable URI of the problem type: urn:acs-token-service:problem:<code>'),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().describe('What went wrong, for a person; never contains a secret'),
  code: z.enum(CODES),
  instance: z.string().optional(),
  invocationId: z
    .string()
    .optional()
    .describe('Quote it when asking for help: it finds the log record'),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

export type ProblemBody = z.infer<typeof ProblemSchema>;

export const HealthSchema = z.object({
  status: z.enum(['ready', 'degraded']),
  acs: z.object({
    reachable: z.boolean(),
    latencyMs: z.number(),
    checkedAt: z.iso.datetime(),
    auth: z.enum(['connectionString', 'managedIdentity']),
  }),
});
