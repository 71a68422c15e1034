import { format } from 'node:util';

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface LogRecord {
  level: LogLevel;
  functionName?: string;
  invocationId?: string;
  message: string;
  fields?: Record<string, unknown>;
}

export type LogSink = (record: LogRecord) => void;

/**
 * Prints one JSON line per record, as Application Insights would index them. The app's own
 * records are already secret-free; the host adds nothing from the request but its path.
 */
export function jsonLineSink(
  minLevel: string | undefined,
  write = (line: string) => console.log(line),
): LogSink {
  const floor = Math.max(0, LEVELS.indexOf((minLevel ?? 'information') as LogLevel));
  return (record) => {
    if (LEVELS.indexOf(record.level) < floor) return;
    write(
      JSON.stringify({
        time: new Date().toISOString(),
        level: record.level,
        ...(record.functionName ? { function: record.functionName } : {}),
        ...(record.invocationId ? { invocationId: record.invocationId } : {}),
        message: record.message,
        ...record.fields,
      }),
    );
  };
}

/** Turns `context.log('message', {fields})` arguments into a record. */
export function toRecord(
  level: string,
  args: unknown[],
): Omit<LogRecord, 'functionName' | 'invocationId'> {
  const normalized = (LEVELS as readonly string[]).includes(level)
    ? (level as LogLevel)
    : 'information';
  const [first, ...rest] = args;
  // The app logs one JSON object per record; keep it structured instead of quoting it.
  if (typeof first === 'string' && rest.length === 0 && first.startsWith('{')) {
    try {
      const fields = JSON.parse(first) as Record<string, unknown>;
      const message = typeof fields.event === 'string' ? fields.event : 'log';
      return { level: normalized, message, fields };
    } catch {
      // not JSON after all: fall through
    }
  }
  const last = rest[rest.length - 1];
  if (typeof first === 'string' && rest.length === 1 && typeof last === 'object' && last !== null) {
    return { level: normalized, message: first, fields: last as Record<string, unknown> };
  }
  return { level: normalized, message: format(...args) };
}
