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
import { startEmulator, type EmulatorOptions, type RunningEmulator } from './emulator';
import { startManagedIdentityEndpoint, type RunningManagedIdentity } from './identity';
import { rerunTrusting } from './identity/trust';
import { localCertificate, type LocalCertificate } from './tls';
import { corsLayer, corsPolicyFrom } from './host/cors';
import { localState, type LocalState } from './localState';
import { easyAuthStandIn } from './host/easyAuth';
import { idTokensFrom } from './host/tokenStore';
import { resolveKeys } from './host/keys';
import { applyLocalSettings, loopbackEmulator } from './host/localSettings';
import { jsonLineSink } from './host/logger';
import { loadApp } from './host/loadApp';
import { buildRoutes, readRoutePrefix } from './host/routes';
import { createLocalHost, type PlatformLayer } from './host/server';
import { staticFiles } from './host/staticFiles';
import { listenOnLoopback } from './host/listen';
import { startLocalTimers } from './host/localTimers';
import type { TimerRegistration } from './host/timers';
import { DEV_AUDIENCE, startIssuer, type RunningIssuer } from './issuer';
import { startBanner } from './startBanner';

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
  signIn: Pick<EmulatorOptions, 'tls' | 'entra'> = {},
): Promise<RunningEmulator> {
  const port = portFrom('ACS_EMULATOR_PORT', 7090);
  // With a state file, the resource (its key, id and identities) is the one kept there.
  const kept = state.emulatorFile === undefined ? {} : { stateFile: state.emulatorFile };
  try {
    return await startEmulator({ port, ...kept, teamsIssuer, ...signIn });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    console.warn(`[start] port ${port} is busy; the emulator takes a free port instead`);
    return startEmulator({ port: 0, ...kept, teamsIssuer, ...signIn });
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

async function startLocalAzurite(
  state: LocalState,
  oauth?: LocalCertificate,
): Promise<RunningAzurite> {
  // Kept in the project (git-ignored) so mappings survive restarts, as they would in Azure.
  const location = state.azurite;
  const port = portFrom('AZURITE_TABLE_PORT', 10002);
  const tls = oauth ? { oauth } : {};
  try {
    return await startAzurite({ projectRoot, location, port, ...tls });
  } catch {
    console.warn(`[start] Azurite could not use port ${port}; trying a free port`);
    return startAzurite({ projectRoot, location, ...tls });
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
  const acsAuth = env.ACS_AUTH?.trim() || 'connectionString';
  if (acsAuth !== 'connectionString' && acsAuth !== 'managedIdentity') {
    throw new Error(`ACS_AUTH must be 'connectionString' or 'managedIdentity' (got '${acsAuth}').`);
  }
  // As Azure runs the app: every Entra ID call over HTTPS, to services using a local certificate.
  const certificate =
    acsAuth === 'managedIdentity' ? localCertificate(path.join(state.dir, 'tls')) : undefined;
  if (certificate && env.NODE_EXTRA_CA_CERTS !== certificate.caFile) {
    return rerunTrusting(certificate.caFile);
  }

  let emulator: RunningEmulator | undefined;
  let azurite: RunningAzurite | undefined;
  let identity: RunningManagedIdentity | undefined;
  // First: it holds nothing, so a Ctrl-C while it starts loses nothing either.
  const issuer = await startLocalIssuer();
  let servers: Server[] = [];
  let timers: { stop(): Promise<void> } | undefined = undefined;
  /**
   * Every part gets one orderly stop, in order: the host (nothing new reaches the services),
   * then the emulator (its last change is on disk) and the issuer, then Azurite (it saves its
   * tables). Each wait is bounded, so a stop always ends.
   */
  const stopAll = async () => {
    // Timers first: a run in progress ends while the services it needs are still there.
    await timers?.stop();
    await closeHost(servers);
    await Promise.all([emulator?.close(), issuer.close(), identity?.close()]);
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
  if (certificate) {
    // App Service's token service, the ACS resource and its role assignment, all local; the app
    // gets endpoints only, as infra/ configures it.
    identity = await startManagedIdentityEndpoint({ signer: issuer });
    Object.assign(env, identity.env());
    for (const name of ['ACS_CONNECTION_STRING', 'IDENTITY_MAP_CONNECTION'] as const) {
      if (env[name]) console.log(`[start] ACS_AUTH=managedIdentity: ${name} is not used`);
      delete env[name];
    }
    emulator = await startLocalEmulator(state, issuer.url, {
      tls: { key: certificate.key, cert: certificate.cert },
      entra: {
        jwksUrl: issuer.jwksUrl,
        tenantId: identity.tenantId,
        roleHolders: [identity.systemAssigned.principalId],
      },
    });
    env.ACS_ENDPOINT = emulator.endpoint;
  } else if (expected) {
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
  // The identity pool (POOL_SIZE) keeps its rows beside the identity map, in every mode.
  if (easyAuth || jwt || Number(env.POOL_SIZE?.trim() || 0) > 0) {
    if (certificate) {
      azurite = await startLocalAzurite(state, certificate);
      env.IDENTITY_MAP_ENDPOINT = azurite.tableEndpoint;
    } else if (!env.IDENTITY_MAP_CONNECTION && !env.IDENTITY_MAP_ENDPOINT) {
      azurite = await startLocalAzurite(state);
      env.IDENTITY_MAP_CONNECTION = azurite.connectionString;
    }
  }
  if (stopping) return;

  let routes;
  let routePrefix;
  const timerFunctions: TimerRegistration[] = [];
  try {
    routePrefix = readRoutePrefix(appRoot);
    routes = buildRoutes(loadApp(appRoot, env.LOCAL_HOST_ENTRIES, timerFunctions), routePrefix);
    // Timer triggers need AzureWebJobsStorage (their singleton lock): Azurite, as for `func start`.
    if (timerFunctions.length > 0 && !env.AzureWebJobsStorage?.trim()) {
      azurite ??= await startLocalAzurite(state);
      env.AzureWebJobsStorage = azurite.connectionString;
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  const demo = existsSync(demoFolder);
  // Easy Auth takes bearer tokens from the local issuer unless another is named.
  const easyAuthIssuer = env.EASY_AUTH_ISSUER?.trim() || issuer.url;
  const easyAuthAudiences = (env.EASY_AUTH_AUDIENCES?.trim() || DEV_AUDIENCE)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const platform: PlatformLayer[] = [
    // CORS first, as in the Functions host ("EasyAuth must go after CORS, as CORS preflight
    // requests can happen before authentication": azure-functions-host
    // src/WebJobs.Script.WebHost/WebScriptHostBuilderExtension.cs).
    corsLayer(cors),
    // Then Easy Auth: it strips forged principal headers before anything else runs.
    easyAuthStandIn({
      enabled: easyAuth,
      secret: keys.sessionSecret,
      bearer: { issuer: easyAuthIssuer, audiences: easyAuthAudiences },
      enforced: env.EASY_AUTH_ENFORCED?.trim().toLowerCase() !== 'false',
      tokenStore:
        env.EASY_AUTH_TOKEN_STORE?.trim().toLowerCase() === 'true'
          ? idTokensFrom(easyAuthIssuer, easyAuthAudiences[0] ?? DEV_AUDIENCE)
          : undefined,
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
  timers = startLocalTimers(appRoot, timerFunctions, env, jsonLineSink(env.LOG_LEVEL));
  const actualPort = (servers[0]?.address() as AddressInfo).port;
  const base = `http://localhost:${actualPort}`;

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
    startBanner({
      base,
      routePrefix,
      routes: routes.map((r) => ({
        name: r.registration.name,
        route: r.registration.trigger.route ?? r.registration.name,
        authLevel: r.authLevel,
      })),
      emulator,
      azurite,
      identity,
      state,
      issuerUrl: issuer.url,
      auth: easyAuth
        ? { mode: 'easyauth', issuer: easyAuthIssuer }
        : jwt
          ? {
              mode: 'jwt',
              issuer: env.OIDC_ISSUER ?? '',
              audience: env.OIDC_AUDIENCE ?? '',
              bearer,
            }
          : {
              mode: 'key',
              keySource: env.FUNCTIONS_DEV_KEY ? 'FUNCTIONS_DEV_KEY' : '.dev/host-keys.json',
              functionKey: keys.functionKey,
            },
      cors,
      demo,
    }),
  );
}

main().catch((err: unknown) => {
  // Config errors name the setting and never carry its value, so the message is safe to print.
  console.error(`\n${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
