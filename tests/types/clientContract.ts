/**
 * Compile-time only (checked by `npm run typecheck`): the wire types that clients/js declares
 * for itself are exactly what the service's zod schemas infer. A field added, removed, renamed
 * or retyped on either side makes one of these lines fail to compile, so the package and the
 * service cannot drift apart. (The package declares its own types instead of importing zod so
 * that it stays a small module with one peer dependency.)
 */
import type * as z from 'zod/mini';
import type * as client from '../../clients/js/src/contract.js';
import type { ErrorCode } from '../../src/domain/errors';
import type { AcsScope } from '../../src/domain/scopes';
import type { ProblemSchema } from '../../src/contracts/problem';
import type { TokenRequestSchema, TokenResponseSchema } from '../../src/contracts/token';

/** True only when A and B are the same type (not merely assignable one way). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

function same<A, B>(proof: Equal<A, B>): Equal<A, B> {
  return proof;
}

// What the client sends is what the schema accepts; what it reads is what the service answers.
export const contract = [
  same<client.TokenRequest, z.input<typeof TokenRequestSchema>>(true),
  same<client.TokenResponse, z.output<typeof TokenResponseSchema>>(true),
  same<client.Problem, z.output<typeof ProblemSchema>>(true),
  same<client.ProblemCode, ErrorCode>(true),
  same<client.AcsScope, AcsScope>(true),
] as const;
