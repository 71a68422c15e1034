import type * as z from 'zod/mini';
import { AppError, type FieldError } from '../domain/errors';

function fieldErrors(error: z.core.$ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: key, message: 'is not a known field' }));
    }
    const field = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`))
      .join('');
    return [{ field: field || '(body)', message: issue.message }];
  });
}

/** Validates input against a contract schema; failures become one 400 naming every bad field. */
export function validate<S extends z.ZodMiniType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error);
  const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ');
  throw new AppError('invalid_request', `${detail}.`, { errors });
}
