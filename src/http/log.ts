import type { InvocationContext } from '@azure/functions';
import { redact } from '../infra/redact';

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/**
 * The request's correlation id: the W3C trace id when the caller (or the platform) sent a
 * `traceparent`, else the invocation id, so every record of a request can be found together.
 */
export function correlationId(context: InvocationContext, traceparent?: string | null): string {
  const candidate = context.traceContext?.traceParent ?? traceparent ?? '';
  return TRACEPARENT.exec(candidate.trim().toLowerCase())?.[1] ?? context.invocationId;
}

type Level = 'info' | 'warn' | 'error';

/**
 * One structured record through the Functions logger: a single JSON line, which Application
 * Insights stores as the trace message (`parse_json(message)` in KQL). Redacted on the way out.
 */
export function logEvent(
  context: InvocationContext,
  level: Level,
  event: string,
  fields: Record<string, unknown>,
): void {
  context[level](JSON.stringify(redact({ event, ...fields })));
}
