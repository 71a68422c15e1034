import { logEvent } from '../http/log';
import { json } from '../http/respond';
import { asRestError } from '../infra/restError';
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
      const ready = await services.readiness();
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
      });
    },
);
