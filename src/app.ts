/**
 * The composition root: settings parsed once, the services built once from them, every HTTP
 * function registered with those services. `src/index.ts` runs it for the Functions host; tests
 * call `registerFunctions` with services of their own and a registrar that captures.
 */
import type { HttpFunctionOptions } from '@azure/functions';
import { loadConfig, type Config } from './config';
import { health } from './functions/health';
import { openapi } from './functions/openapi';
import { revoke } from './functions/revoke';
import type { FunctionRoute } from './functions/route';
import { teamsToken } from './functions/teamsToken';
import { token } from './functions/token';
import { user } from './functions/user';
import { admitCaller, protectedAuthLevel } from './http/caller';
import { ALL_METHODS, endpoint } from './http/endpoint';
import { buildServices, type Services } from './runtime';

/** Every HTTP function of the app. */
export const ROUTES: readonly FunctionRoute[] = [token, teamsToken, revoke, user, health, openapi];

/** Where functions are registered: `app` from `@azure/functions`, or a test's capture. */
export interface HttpRegistrar {
  http(name: string, options: HttpFunctionOptions): void;
}

/**
 * Registers every route with `services`. Every route is registered for every method a handler can
 * be given (ALL_METHODS: a wrong one gets a 405 problem with `Allow`, not the host's bare 404);
 * a protected route at the auth level its auth mode needs, admitting its caller before its
 * handler runs.
 */
export function registerFunctions(registrar: HttpRegistrar, services: Services): void {
  for (const route of ROUTES) registrar.http(route.name, httpFunction(route, services));
}

function httpFunction(route: FunctionRoute, services: Services): HttpFunctionOptions {
  if (route.access === 'anonymous') {
    const respond = route.build(services);
    return {
      route: route.route,
      methods: ALL_METHODS,
      authLevel: 'anonymous',
      handler: endpoint(route.methods, (request, context, facts) =>
        respond({ request, context, facts }),
      ),
    };
  }
  const respond = route.build(services);
  return {
    route: route.route,
    methods: ALL_METHODS,
    authLevel: protectedAuthLevel(services.config.authMode),
    handler: endpoint(route.methods, async (request, context, facts) =>
      respond({ request, context, facts, caller: await admitCaller(request, services, facts) }),
    ),
  };
}

/**
 * Parses `env`, builds the services and registers the functions: a bad setting stops the app
 * here, at start-up, with a message naming it, not on the first request.
 */
export function startApp(registrar: HttpRegistrar, env: NodeJS.ProcessEnv): Services {
  const services = buildServices(loadConfig(env));
  registerFunctions(registrar, services);
  logStartup(services.config);
  return services;
}

/** Stated once at start-up, so an operator can see what this instance will and will not do. */
function logStartup(config: Config): void {
  // eslint-disable-next-line no-console
  console.info(
    JSON.stringify({
      event: 'startup',
      authMode: config.authMode,
      acsAuth: config.acs.kind,
      tokenCache:
        config.authMode === 'key'
          ? 'off (key mode)'
          : config.tokenCacheKey
            ? 'on'
            : 'off (TOKEN_CACHE_KEY not set)',
      corsOrigins: config.corsAllowedOrigins === '*' ? '*' : config.corsAllowedOrigins.length,
    }),
  );
}
