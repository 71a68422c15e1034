import type { IncomingMessage } from 'node:http';
import { SettingsSchema } from '../../src/config';
import { kestrelHeaderValue } from './kestrel';
import type { PlatformLayer } from './server';

/** What the platform's CORS layer allows: `CORS_ALLOWED_ORIGINS` and `CORS_SUPPORT_CREDENTIALS`. */
export interface CorsPolicy {
  origins: string[] | '*';
  supportCredentials: boolean;
  /**
   * Whether the host runs its CORS middleware at all. Without it, preflights are ordinary
   * requests: they reach routing, and a keyed function answers 401 without its key.
   */
  hostMiddleware: boolean;
}

/**
 * When the host registers its CORS middleware (azure-functions-host
 * src/WebJobs.Script.WebHost/WebScriptHostBuilderExtension.cs: `IsAnyLinuxConsumption()` or
 * `IsCorsConfigurationEnabled()`, src/WebJobs.Script/Environment/EnvironmentExtensions.cs):
 * on Flex Consumption (`WEBSITE_SKU=FlexConsumption`), on Linux Consumption (`CONTAINER_NAME`
 * outside App Service, no `LEGION_SERVICE_HOST`), or with `FUNCTIONS_ENABLE_CORS_CONFIGURATION=1`.
 * Locally it also runs whenever origins are listed: Azure writes `CORS_ALLOWED_ORIGINS` only on
 * those platforms, so listing them says the host is one of them.
 */
function runsCorsMiddleware(env: NodeJS.ProcessEnv, origins: string[] | '*'): boolean {
  const flex = env.WEBSITE_SKU?.trim().toLowerCase() === 'flexconsumption';
  const linuxConsumption =
    !!env.CONTAINER_NAME && !env.WEBSITE_INSTANCE_ID && !env.LEGION_SERVICE_HOST;
  const enabled = env.FUNCTIONS_ENABLE_CORS_CONFIGURATION === '1';
  return flex || linuxConsumption || enabled || origins === '*' || origins.length > 0;
}

/**
 * The host's CORS policy from the same settings Azure uses (azure-functions-host
 * src/WebJobs.Script/Environment/EnvironmentSettingNames.cs: `CORS_ALLOWED_ORIGINS`,
 * `CORS_SUPPORT_CREDENTIALS`). Credentials default to `defaultCredentials` (on for Easy Auth's
 * session cookie) except for `*`, as infra sets `supportCredentials`; `*` with credentials asked
 * for explicitly is refused, as ASP.NET Core's `CorsPolicyBuilder.Build` refuses it, so the
 * mistake stops the host instead of reaching a browser.
 */
export function corsPolicyFrom(env: NodeJS.ProcessEnv, defaultCredentials: boolean): CorsPolicy {
  const parsed = SettingsSchema.shape.CORS_ALLOWED_ORIGINS.safeParse(env.CORS_ALLOWED_ORIGINS);
  if (!parsed.success) {
    throw new Error(`CORS_ALLOWED_ORIGINS: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  const flag = env.CORS_SUPPORT_CREDENTIALS?.trim().toLowerCase();
  if (flag !== undefined && flag !== '' && flag !== 'true' && flag !== 'false') {
    throw new Error('CORS_SUPPORT_CREDENTIALS: must be true or false');
  }
  // As infra sets supportCredentials: with Easy Auth's cookie, and never for `*`.
  const byDefault = defaultCredentials && parsed.data !== '*';
  const supportCredentials = flag === 'true' || ((flag ?? '') === '' && byDefault);
  if (parsed.data === '*' && supportCredentials) {
    throw new Error(
      'CORS_ALLOWED_ORIGINS: * cannot be combined with CORS_SUPPORT_CREDENTIALS=true; list the origins instead',
    );
  }
  return {
    origins: parsed.data,
    supportCredentials,
    hostMiddleware: runsCorsMiddleware(env, parsed.data),
  };
}

/** `Access-Control-Request-Headers` as ASP.NET Core reads it: comma-separated, trimmed. */
function requestedHeaders(req: IncomingMessage): string {
  return (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .join(',');
}

/**
 * The platform's CORS layer, in front of Easy Auth and the app, as the Functions host runs it on
 * Flex and Linux Consumption (azure-functions-host
 * src/WebJobs.Script.WebHost/Middleware/JobHostCorsMiddleware.cs with the policy of
 * Configuration/CorsOptionsSetup.cs: the listed origins, any header, any method, credentials when
 * asked; ASP.NET Core's CorsMiddleware and CorsService apply it):
 * - a request without `Origin` is not a CORS request: it passes untouched;
 * - a preflight (`OPTIONS` with `Access-Control-Request-Method`) is always ended here with 204,
 *   so no app function ever sees one; an allowed origin gets the method and headers it asked
 *   for echoed back, any other origin a bare 204;
 * - any other request from an allowed origin goes on, and whatever answers it (the app, the
 *   host's own 401/404, Easy Auth) carries `Access-Control-Allow-Origin` (and `-Credentials`).
 * No `Access-Control-Expose-Headers` and no `Access-Control-Max-Age`: the platform's policy sets
 * neither. `Vary: Origin` only when more than one origin is listed, as CorsService does.
 * Where the host does not run the middleware (`hostMiddleware`), the layer does nothing.
 */
export function corsLayer(policy: CorsPolicy): PlatformLayer {
  const anyOrigin = policy.origins === '*';
  const allows = (origin: string) => anyOrigin || policy.origins.includes(origin);
  const varyByOrigin = !anyOrigin && policy.origins.length > 1;
  const grant = (origin: string): Record<string, string> => ({
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    ...(policy.supportCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    ...(varyByOrigin ? { vary: 'Origin' } : {}),
  });
  return {
    handle(req, res) {
      const origin = req.headers.origin;
      if (origin === undefined || !policy.hostMiddleware) return false;
      const allowed = allows(origin);
      const preflight =
        req.method?.toUpperCase() === 'OPTIONS' &&
        req.headers['access-control-request-method'] !== undefined;
      if (preflight) {
        const headers: Record<string, string> = { 'content-length': '0' };
        if (allowed) {
          Object.assign(headers, grant(origin), {
            'access-control-allow-methods': echoedAsKestrelDecodes(
              req.headers['access-control-request-method'] ?? '',
            ),
          });
          const asked = requestedHeaders(req);
          if (asked) headers['access-control-allow-headers'] = asked;
        }
        res.writeHead(204, headers).end();
        return true;
      }
      if (allowed)
        for (const [name, value] of Object.entries(grant(origin))) res.setHeader(name, value);
      return false;
    },
  };
}

/**
 * A request header echoed in a response as Kestrel decoded it (UTF-8), not as Node's Latin-1
 * reading of those bytes. A value Node cannot write back (a character past U+00FF) is echoed as
 * it arrived.
 */
function echoedAsKestrelDecodes(latin1: string): string {
  const decoded = kestrelHeaderValue(latin1);
  return decoded !== undefined && ![...decoded].some((c) => c.charCodeAt(0) > 0xff)
    ? decoded
    : latin1;
}
