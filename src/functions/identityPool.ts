import { app, type InvocationContext, type Timer } from '@azure/functions';
import { logEvent } from '../http/log';
import { newRequestFacts } from '../http/requestFacts';
import { services } from '../runtime';

/**
 * Every 30 s (NCRONTAB, with seconds), and once when the host starts: with one instance at a
 * time (the host's singleton lock on timer listeners), top the identity pool up to POOL_SIZE
 * and re-issue tokens before they stop serving. Registered only when the pool is on.
 */
export const POOL_SCHEDULE = '*/30 * * * * *';
/** A run ends by then even with work left (the next run goes on): well inside functionTimeout. */
const RUN_BUDGET_MS = 4 * 60_000;

export async function identityPoolHandler(timer: Timer, context: InvocationContext): Promise<void> {
  const pool = services().pool;
  if (!pool) return;
  const tally = newRequestFacts();
  const report = await pool.run(tally, Date.now() + RUN_BUDGET_MS);
  logEvent(context, report.stoppedBy === 'error' ? 'warn' : 'info', 'pool_run', {
    ...report,
    isPastDue: timer.isPastDue,
    acsCalls: tally.acsCalls,
    acsMs: Math.round(tally.acsMs),
  });
}

if (services().config.pool) {
  app.timer('identityPool', {
    schedule: POOL_SCHEDULE,
    runOnStartup: true,
    handler: identityPoolHandler,
  });
}
