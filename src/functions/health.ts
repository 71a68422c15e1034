import { logEvent } from '../http/log';
import { json } from '../http/respond';
import { asRestError } from '../infra/restError';
import type { Services } from '../runtime';
import { anonymousRoute } from './route';

/**
 * `GET /api/health`, anonymous so probes need no key: 200 only when a token request can succeed
 * (ACS answers, and the ACS client, its credential and in easyauth mode the identity map client
 * can be built), else 503. It says nothing about the configuration beyond how the service
 * authenticates to ACS; why a check failed goes to the log (error name and code only).
 * `acs.throttled` lists the operations ACS is throttling for this instance: reported, never failed
 * on, since the instance still serves cached callers and a failing probe would only take it out
 * of rotation and push its load onto the others.
 */
export const health = anonymousRoute(
  { name: 'health', route: 'health', methods: ['GET'] },
  (services) =>
    async ({ context }) => {
      const [ready, pool] = await Promise.all([services.readiness(), poolReport(services.pool)]);
      for (const { check, error } of ready.failures) {
        logEvent(context, 'warn', 'not_ready', {
          check,
          errorName: error instanceof Error ? error.name : typeof error,
          errorCode: asRestError(error).code,
        });
      }
      return json(ready.ready ? 200 : 503, {
        status: ready.ready ? 'ready' : 'degraded',
        acs: {
          ...ready.acs,
          auth: services.config.acs.kind,
          throttled: services.throttle.throttled(),
        },
        checks: ready.checks,
        ...(pool ? { pool } : {}),
      });
    },
);

/**
 * The identity pool as its filler's last run left it (one row read): how many identities wait,
 * how old the oldest waiting token is, and how long ago the run was. Reported, never failed on:
 * an empty pool only means new callers take today's path.
 */
async function poolReport(pool: Services['pool']) {
  if (!pool) return undefined;
  const now = Date.now();
  const summary = await pool.summary().catch(() => null);
  if (summary === null) return { status: 'unknown' as const };
  if (!summary) return { status: 'not filled yet' as const };
  return {
    status: 'reported' as const,
    size: summary.ready,
    target: summary.target,
    claimsInProgress: summary.claimed,
    oldestTokenAgeSeconds:
      summary.oldestIssuedAt === undefined
        ? null
        : Math.max(0, Math.round((now - summary.oldestIssuedAt) / 1000)),
    reportedSecondsAgo: Math.max(0, Math.round((now - summary.ranAt) / 1000)),
  };
}
