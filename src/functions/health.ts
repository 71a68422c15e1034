import { app } from '@azure/functions';
import { endpoint } from '../http/endpoint';
import { json } from '../http/respond';
import { corsOrigins, services } from '../runtime';

/**
 * `GET /api/health`, anonymous so probes need no key: 200 when ACS answers, 503 when it does
 * not. It says nothing about the configuration beyond how the service authenticates to ACS.
 */
export const healthHandler = endpoint(['GET'], corsOrigins, async () => {
  const { config, reachability } = services();
  const acs = await reachability.check();
  return json(acs.reachable ? 200 : 503, {
    status: acs.reachable ? 'ready' : 'degraded',
    acs: { ...acs, auth: config.acs.kind },
  });
});

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: healthHandler,
});
