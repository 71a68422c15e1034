import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LogSink } from './logger';
import { startTimers, TIMER_TABLE, type TimerRegistration } from './timers';

/** `hh:mm:ss` (host.json's TimeSpan form) in ms; undefined when absent or not of that form. */
function timeSpanMs(value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(value.trim()) : null;
  return m ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 : undefined;
}

/**
 * host.json's `singleton` section, as the host reads it (learn.microsoft.com/azure/azure-functions/
 * functions-host-json#singleton: `listenerLockPeriod` and `listenerLockRecoveryPollingInterval`,
 * both 00:01:00 by default).
 */
function singletonSettings(appRoot: string) {
  try {
    const host = JSON.parse(readFileSync(path.join(appRoot, 'host.json'), 'utf8')) as {
      singleton?: Record<string, unknown>;
    };
    return {
      lockPeriodMs: timeSpanMs(host.singleton?.listenerLockPeriod),
      recoveryPollMs: timeSpanMs(host.singleton?.listenerLockRecoveryPollingInterval),
    };
  } catch {
    return {};
  }
}

/**
 * The app's timer triggers on this host (dev/host/timers.ts), locked through AzureWebJobsStorage.
 * Every instance started from the same app folder shares one host id, hence one lock, as the
 * instances of one Function App do (Azure derives it from the site name; `AzureFunctionsWebHost__hostid`
 * overrides it there and here).
 */
export function startLocalTimers(
  appRoot: string,
  timers: TimerRegistration[],
  env: NodeJS.ProcessEnv,
  log: LogSink,
): { stop(): Promise<void> } {
  const storage = env.AzureWebJobsStorage?.trim();
  const hostId =
    env.AzureFunctionsWebHost__hostid?.trim() ||
    `local-${createHash('sha256').update(path.resolve(appRoot)).digest('hex').slice(0, 16)}`;
  const { lockPeriodMs, recoveryPollMs } = singletonSettings(appRoot);
  return startTimers({
    timers,
    hostId,
    log,
    env,
    ...(lockPeriodMs ? { lockPeriodMs } : {}),
    ...(recoveryPollMs ? { recoveryPollMs } : {}),
    storage: storage
      ? async () => {
          const { TableClient } = await import('@azure/data-tables');
          return TableClient.fromConnectionString(storage, TIMER_TABLE, {
            allowInsecureConnection: true,
          });
        }
      : undefined,
  });
}
