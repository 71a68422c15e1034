import { app } from '@azure/functions';
import { endpoint } from '../http/endpoint';
import { json } from '../http/respond';
import { services } from '../runtime';

/**
 * `GET /api/health`, anonymous so probes need no key: 200 when ACS answers, 503 when it does
 * not; `acs.throttled` lists the operations ACS is throttling for this instance (still 200). It says nothing about the configuration beyond how the service authenticates to ACS.
 */
export const healthHandler = endpoint(['GET'], async () => {
  const { config, reachability, throttle } = services();
  const acs = await reachability.check();
  // Throttling is reported, never failed on: the instance still serves cached callers, and a
  // failing probe would only take it out of rotation and push its load onto the others.
  return json(acs.reachable ? 200 : 503, {
    status: acs.reachable ? 'ready' : 'degraded',
    acs: { ...acs, auth: config.acs.kind, throttled: throttle.throttled() },
  });
});

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: healthHandler,
});
