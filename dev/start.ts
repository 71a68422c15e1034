/**
 * `npm start`: the local stand-in for `func start`. Starts the ACS Identity emulator when no ACS
 * resource is configured, loads the built app through its own registrations and serves it on
 * http://localhost:7071 (or PORT).
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from './azurite';
import { startEmulator, type RunningEmulator } from './emulator';
import { easyAuthStandIn } from './host/easyAuth';
import { resolveKeys } from './host/keys';
import { applyLocalSettings } from './host/localSettings';
import { jsonLineSink } from './host/logger';
import { loadApp } from './host/loadApp';
import { buildRoutes, readRoutePrefix } from './host/routes';
import { createLocalHost, type PlatformLayer } from './host/server';
import { staticFiles } from './host/staticFiles';
import { listenOnLoopback } from './host/listen';
import { DEV_AUDIENCE, startIssuer, type RunningIssuer } from './issuer';

const projectRoot = path.resolve(__dirname, '..', '..');
/** Built by `npm run build:demo`; served only when it exists. */
const demoFolder = path.join(projectRoot, 'examples', 'browser', 'dist');

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number (0-65535)`);
  }
  return port;
}

async function startLocalEmulator(): Promise<RunningEmulator> {
  const port = portFrom('ACS_EMULATOR_PORT', 7090);
  try {
    return await startEmulator({ port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`[start] port ${port} is busy; the emulator takes a free port instead`);
    return startEmulator({ port: 0 });
  }
}

/** The local OpenID Connect issuer (dev/issuer): jwt mode's token source and the Teams users'. */
async function startLocalIssuer(): Promise<RunningIssuer> {
  const port = portFrom('ISSUER_PORT', 7080);
  try {
    return await startIssuer({ port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`[start] port ${port} is busy; the local issuer takes a free port instead`);
    return startIssuer({ port: 0 });
  }
}

async function startLocalAzurite(): Promise<RunningAzurite> {
  // Kept in the project (git-ignored) so mappings survive restarts, as they would in Azure.
  const location = path.join(projectRoot, '.dev', 'azurite');
  const port = portFrom('AZURITE_TABLE_PORT', 10002);
  try {
    return await startAzurite({ projectRoot, location, port });
  } catch {
    console.warn(`[start] Azurite could not use port ${port}; trying a free port`);
    return startAzurite({ projectRoot, location });
  }
}

async function main(): Promise<void> {
  const env = process.env;
  applyLocalSettings(projectRoot, env);
  const keys = resolveKeys(projectRoot, env);
  const port = portFrom('PORT', 7071);
  const easyAuth = env.AUTH_MODE?.trim() === 'easyauth';
  const jwt = env.AUTH_MODE?.trim() === 'jwt';
  // The folder whose package.json `main` and host.json the host loads, named as the real host
  // names it (azure-functions-host, EnvironmentSettingNames.AzureWebJobsScriptRoot). The package
  // test points it at the unpacked deployment zip.
  const appRoot = env.AzureWebJobsScriptRoot
    ? path.resolve(env.AzureWebJobsScriptRoot)
    : projectRoot;

  let emulator: RunningEmulator | undefined;
  let azurite: RunningAzurite | undefined;
  const issuer = await startLocalIssuer();
  const stopServices = async () => {
    await Promise.all([emulator?.close(), azurite?.stop(), issuer.close()]);
  };
  process.once('exit', () => void stopServices());
  if (jwt) {
    env.OIDC_ISSUER ??= issuer.url;
    env.OIDC_AUDIENCE ??= DEV_AUDIENCE;
  }
  if (!env.ACS_CONNECTION_STRING && !env.ACS_ENDPOINT) {
    emulator = await startLocalEmulator();
    env.ACS_CONNECTION_STRING = emulator.connectionString;
  }
  if (easyAuth) {
    // This host plays App Service: it is the platform that says Easy Auth is on.
    env.WEBSITE_AUTH_ENABLED ??= 'True';
  }
  if (easyAuth || jwt) {
    if (!env.IDENTITY_MAP_CONNECTION && !env.IDENTITY_MAP_ENDPOINT) {
      azurite = await startLocalAzurite();
      env.IDENTITY_MAP_CONNECTION = azurite.connectionString;
    }
  }

  let routes;
  try {
    routes = buildRoutes(loadApp(appRoot, env.LOCAL_HOST_ENTRIES), readRoutePrefix(appRoot));
  } catch (err) {
    await stopServices();
    throw err;
  }
  const demo = existsSync(demoFolder);
  const platform: PlatformLayer[] = [
    // First, as on App Service: it strips forged principal headers before anything else runs.
    easyAuthStandIn({ enabled: easyAuth, secret: keys.sessionSecret }),
    ...(demo ? [staticFiles({ root: demoFolder })] : []),
  ];
  const host = createLocalHost({ routes, keys, log: jsonLineSink(env.LOG_LEVEL), platform });
  const servers = await listenOnLoopback(host, port);
  const actualPort = (servers[0]?.address() as AddressInfo).port;
  const base = `http://localhost:${actualPort}`;

  const keySource = process.env.FUNCTIONS_DEV_KEY ? 'FUNCTIONS_DEV_KEY' : '.dev/host-keys.json';
  const bearer = jwt
    ? (
        await issuer.mint({
          sub: 'alice',
          roles: ['member'],
          aud: env.OIDC_AUDIENCE ?? DEV_AUDIENCE,
        })
      ).access_token
    : '';
  console.log(
    [
      '',
      'acs-token-service (local Functions host)',
      ...routes.map((r) => {
        const route = r.registration.trigger.route ?? r.registration.name;
        const prefix = readRoutePrefix(appRoot);
        return `  ${r.registration.name.padEnd(8)} ${base}/${[prefix, route].filter(Boolean).join('/')}  (${r.authLevel})`;
      }),
      emulator
        ? `  ACS: emulator at ${emulator.url} (stats: ${emulator.url}/admin/stats)`
        : '  ACS: the resource configured in ACS_CONNECTION_STRING / ACS_ENDPOINT',
      azurite ? `  Identity map: Azurite on 127.0.0.1:${azurite.port} (data in .dev/azurite)` : '',
      `  Issuer: local OpenID Connect issuer at ${issuer.url} (mint: POST ${issuer.url}/dev/token)`,
      easyAuth
        ? `  Auth: easyauth (sign in at ${base}/.auth/login/dev?user=alice&roles=member)`
        : jwt
          ? `  Auth: jwt (bearer tokens from ${env.OIDC_ISSUER ?? ''}, audience ${env.OIDC_AUDIENCE ?? ''})`
          : `  Auth: function key from ${keySource}`,
      demo ? `  Demo: ${base}/  (browser demo from examples/browser)` : '',
      '',
      'Try:',
      jwt
        ? `  curl -s -X POST '${base}/api/token' -H 'authorization: Bearer ${bearer}' -H 'content-type: application/json' -d '{"scopes":["voip"]}'`
        : easyAuth
          ? `  curl -s -c /tmp/acs-jar '${base}/.auth/login/dev?user=alice&roles=member' && curl -s -b /tmp/acs-jar -X POST '${base}/api/token' -H 'content-type: application/json' -d '{"scopes":["voip"]}'`
          : `  curl -s -X POST '${base}/api/token' -H 'x-functions-key: ${keys.functionKey}' -H 'content-type: application/json' -d '{"scopes":["voip"],"expiresInMinutes":60}'`,
      '',
      `Local host ready at ${base}`,
    ]
      .filter((line, i, all) => line !== '' || all[i - 1] !== '')
      .join('\n'),
  );

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    void stopServices().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  // Config errors name the setting and never carry its value, so the message is safe to print.
  console.error(`\n${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
