/**
 * `npm start`: the local stand-in for `func start`. Starts the ACS Identity emulator when no ACS
 * resource is configured, loads the built app through its own registrations and serves it on
 * http://localhost:7071 (or PORT). What the emulator and Azurite hold lives on in LOCAL_STATE_DIR
 * (default .dev/) across restarts, as it would in Azure; `npm run reset` clears it.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from './azurite';
import { startEmulator, type RunningEmulator } from './emulator';
import { corsLayer, corsPolicyFrom } from './host/cors';
import { localState, type LocalState } from './localState';
import { easyAuthStandIn } from './host/easyAuth';
import { resolveKeys } from './host/keys';
import { applyLocalSettings, loopbackEmulator } from './host/localSettings';
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

/** How long requests already in flight may take to finish once a stop is asked for. */
const DRAIN_WAIT_MS = 5_000;

/** Whether something already accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startLocalEmulator(
  state: LocalState,
  teamsIssuer: string,
): Promise<RunningEmulator> {
  const port = portFrom('ACS_EMULATOR_PORT', 7090);
  // With a state file, the resource (its key, id and identities) is the one kept there.
  const kept = state.emulatorFile === undefined ? {} : { stateFile: state.emulatorFile };
  try {
    return await startEmulator({ port, ...kept, teamsIssuer });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`[start] port ${port} is busy; the emulator takes a free port instead`);
    return startEmulator({ port: 0, ...kept, teamsIssuer });
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

async function startLocalAzurite(state: LocalState): Promise<RunningAzurite> {
  // Kept in the project (git-ignored) so mappings survive restarts, as they would in Azure.
  const location = state.azurite;
  const port = portFrom('AZURITE_TABLE_PORT', 10002);
  try {
    return await startAzurite({ projectRoot, location, port });
  } catch {
    console.warn(`[start] Azurite could not use port ${port}; trying a free port`);
    return startAzurite({ projectRoot, location });
  }
}

/**
 * Stops taking requests, lets those in flight finish (up to DRAIN_WAIT_MS), then drops what is
 * left: a request is either answered in full before its services stop, or not at all.
 */
function closeHost(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), DRAIN_WAIT_MS);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        }),
    ),
  ).then(() => undefined);
}

async function main(): Promise<void> {
  const env = process.env;
  applyLocalSettings(projectRoot, env);
  const keys = resolveKeys(projectRoot, env);
  const port = portFrom('PORT', 7071);
  const easyAuth = env.AUTH_MODE?.trim() === 'easyauth';
  // The platform's CORS layer; credentials by default when Easy Auth's session cookie is in use.
  const cors = corsPolicyFrom(env, easyAuth);
  const state = localState(projectRoot, env);
  const jwt = env.AUTH_MODE?.trim() === 'jwt';
  // The folder whose package.json `main` and host.json the host loads, named as the real host
  // names it (azure-functions-host, EnvironmentSettingNames.AzureWebJobsScriptRoot). The package
  // test points it at the unpacked deployment zip.
  const appRoot = env.AzureWebJobsScriptRoot
    ? path.resolve(env.AzureWebJobsScriptRoot)
    : projectRoot;

  let emulator: RunningEmulator | undefined;
  let azurite: RunningAzurite | undefined;
  // First: it holds nothing, so a Ctrl-C while it starts loses nothing either.
  const issuer = await startLocalIssuer();
  let servers: Server[] = [];
  /**
   * Every part gets one orderly stop, in order: the host (nothing new reaches the services),
   * then the emulator (its last change is on disk) and the issuer, then Azurite (it saves its
   * tables). Each wait is bounded, so a stop always ends.
   */
  const stopAll = async () => {
    await closeHost(servers);
    await Promise.all([emulator?.close(), issuer.close()]);
    await azurite?.stop();
  };
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`\n${signal} again: still stopping (saving local state)…`);
      return;
    }
    console.log('\nStopping…');
    stopping = stopAll().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(
          `[start] stopping failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        process.exit(1);
      },
    );
  };
  // Listening from the start: a Ctrl-C while things start up stops what has started so far.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);

  if (jwt) {
    env.OIDC_ISSUER ??= issuer.url;
    env.OIDC_AUDIENCE ??= DEV_AUDIENCE;
  }
  // The local issuer plays Entra ID for the Teams users the emulator exchanges tokens for.
  const expected = loopbackEmulator(env.ACS_CONNECTION_STRING);
  if (expected) {
    // local.settings.json names a local emulator (the sample does, for `func start`): serve it,
    // unless `npm run emulator` already does on that port.
    if (await listening(expected.port)) {
      console.log(`[start] using the emulator already on port ${expected.port}`);
    } else {
      const kept = state.emulatorFile === undefined ? {} : { stateFile: state.emulatorFile };
      emulator = await startEmulator({
        port: expected.port,
        accessKey: expected.accessKey,
        ...kept,
        teamsIssuer: issuer.url,
      });
    }
  } else if (!env.ACS_CONNECTION_STRING && !env.ACS_ENDPOINT) {
    emulator = await startLocalEmulator(state, issuer.url);
    env.ACS_CONNECTION_STRING = emulator.connectionString;
  }
  if (easyAuth) {
    // This host plays App Service: it is the platform that says Easy Auth is on.
    env.WEBSITE_AUTH_ENABLED ??= 'True';
  }
  if (easyAuth || jwt) {
    if (!env.IDENTITY_MAP_CONNECTION && !env.IDENTITY_MAP_ENDPOINT) {
      azurite = await startLocalAzurite(state);
      env.IDENTITY_MAP_CONNECTION = azurite.connectionString;
    }
  }
  if (stopping) return;

  let routes;
  let routePrefix;
  try {
    routePrefix = readRoutePrefix(appRoot);
    routes = buildRoutes(loadApp(appRoot, env.LOCAL_HOST_ENTRIES), routePrefix);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const demo = existsSync(demoFolder);
  // Easy Auth takes bearer tokens from the local issuer unless another is named.
  const easyAuthIssuer = env.EASY_AUTH_ISSUER?.trim() || issuer.url;
  const platform: PlatformLayer[] = [
    // CORS first, as in the Functions host ("EasyAuth must go after CORS, as CORS preflight
    // requests can happen before authentication": azure-functions-host
    // src/WebJobs.Script.WebHost/WebScriptHostBuilderExtension.cs).
    corsLayer(cors),
    // Then Easy Auth: it strips forged principal headers before anything else runs.
    easyAuthStandIn({
      enabled: easyAuth,
      secret: keys.sessionSecret,
      bearer: {
        issuer: easyAuthIssuer,
        audiences: (env.EASY_AUTH_AUDIENCES?.trim() || DEV_AUDIENCE)
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      },
    }),
    ...(demo ? [staticFiles({ root: demoFolder, appPrefix: routePrefix })] : []),
  ];
  const host = createLocalHost({
    routes,
    keys,
    log: jsonLineSink(env.LOG_LEVEL),
    platform,
    // As the host reads it (HomepageMiddleware.IsHomepageDisabled): "true" in any case.
    disableHomepage: env.AzureWebJobsDisableHomepage?.trim().toLowerCase() === 'true',
  });
  servers = await listenOnLoopback(host, port);
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
  const nameWidth = Math.max(8, ...routes.map((r) => r.registration.name.length));
  console.log(
    [
      '',
      'acs-token-service (local Functions host)',
      ...routes.map((r) => {
        const route = r.registration.trigger.route ?? r.registration.name;
        const prefix = readRoutePrefix(appRoot);
        return `  ${r.registration.name.padEnd(nameWidth)} ${base}/${[prefix, route].filter(Boolean).join('/')}  (${r.authLevel})`;
      }),
      emulator
        ? `  ACS: emulator at ${emulator.url} (stats: ${emulator.url}/admin/stats), resource ${emulator.resourceId}`
        : '  ACS: the resource configured in ACS_CONNECTION_STRING / ACS_ENDPOINT',
      azurite ? `  Identity map: Azurite on 127.0.0.1:${azurite.port}` : '',
      emulator || azurite
        ? `  Local state: ${shown(state.dir)}${emulator && !state.emulatorFile ? ' (emulator: throw-away)' : ''}; \`npm run reset\` clears it`
        : '',
      `  Issuer: local OpenID Connect issuer at ${issuer.url} (mint: POST ${issuer.url}/dev/token)`,
      easyAuth
        ? `  Auth: easyauth (sign in at ${base}/.auth/login/dev?user=alice&roles=member, or send a bearer token from ${easyAuthIssuer})`
        : jwt
          ? `  Auth: jwt (bearer tokens from ${env.OIDC_ISSUER ?? ''}, audience ${env.OIDC_AUDIENCE ?? ''})`
          : `  Auth: function key from ${keySource}`,
      cors.origins.length === 0
        ? '  CORS: no origin allowed (CORS_ALLOWED_ORIGINS)'
        : `  CORS: ${cors.origins === '*' ? 'any origin' : cors.origins.join(', ')}${cors.supportCredentials ? ', with credentials' : ''}`,
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
}

function shown(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') ? relative : dir;
}

main().catch((err: unknown) => {
  // Config errors name the setting and never carry its value, so the message is safe to print.
  console.error(`\n${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
