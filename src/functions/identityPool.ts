import type { InvocationContext, Timer, TimerFunctionOptions } from '@azure/functions';
import { logEvent } from '../http/log';
import { newRequestFacts } from '../http/requestFacts';
import type { PoolService, Services } from '../runtime';

/** The filler: tops the pool up to POOL_SIZE and re-issues tokens before they stop serving. */

/** A run ends by then even with work left (the next run goes on): well inside functionTimeout. */
const RUN_BUDGET_MS = 4 * 60_000;

function poolHandler(pool: PoolService, now: () => number) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    const tally = newRequestFacts();
    const report = await pool.run(tally, now() + RUN_BUDGET_MS);
    logEvent(context, report.stoppedBy === 'error' ? 'warn' : 'info', 'pool_run', {
      ...report,
      isPastDue: timer.isPastDue,
      acsCalls: tally.acsCalls,
      acsMs: Math.round(tally.acsMs),
    });
  };
}

/** The pool's timer function; none when the pool is off (POOL_SIZE 0). */
export function identityPoolTimer(
  services: Services,
  now: () => number = Date.now,
): { name: string; options: TimerFunctionOptions } | undefined {
  const { pool } = services;
  if (!pool) return undefined;
  return {
    name: 'identityPool',
    // POOL_SCHEDULE (every 30 s by default), and once when the host starts; one instance at a
    // time (the host's singleton lock on timer listeners).
    options: {
      schedule: services.config.pool?.schedule ?? '*/30 * * * * *',
      runOnStartup: true,
      handler: poolHandler(pool, now),
    },
  };
}
