/**
 * Standalone ACS Identity emulator: `node dist/dev/emulator/main.js`.
 *
 * ACS_EMULATOR_PORT        port on 127.0.0.1 (default 7090)
 * ACS_EMULATOR_ACCESS_KEY  base64 access key of at least 32 bytes (default: the key and port of
 *                          local.settings.json's ACS_CONNECTION_STRING when it names a local
 *                          emulator, as the sample does for `func start`; else random)
 * ACS_EMULATOR_LATENCY_MS  latency added to every ACS operation (default 0)
 * ACS_EMULATOR_TEAMS_ISSUER  OpenID Connect issuer trusted for Teams users' tokens (the local
 *                            issuer, e.g. http://127.0.0.1:7080); unset refuses every one
 * ACS_EMULATOR_STATE       `keep` (default): the resource lives on in LOCAL_STATE_DIR (default
 *                          .dev/) across restarts; `fresh`: a throw-away resource (benchmarks)
 * ACS_EMULATOR_SECONDARY_ACCESS_KEY  the secondary key (default: random)
 * ACS_EMULATOR_QUOTAS      on (default: ACS's Identity limits per 30 s) or off
 * ACS_EMULATOR_QUOTA_WINDOW_SECONDS  quota window (default 30)
 * ACS_EMULATOR_QUOTA_LIMITS  lower limits for short tests: createUserAndToken=5,issueAccessToken=5
 */
import path from 'node:path';
import { applyLocalSettings, loopbackEmulator } from '../host/localSettings';
import { localState } from '../localState';
import { decodeAccessKey } from './hmac';
import { LocalStateError } from './persistence';
import { quotasFromEnv, type QuotaPatch } from './quotas';
import { startEmulator } from './server';

const projectRoot = path.resolve(__dirname, '..', '..', '..');

const MIN_KEY_BYTES = 32;

interface Settings {
  port: number;
  accessKey?: string;
  latencyMs: number;
  stateFile?: string;
  secondaryAccessKey?: string;
  quotas: QuotaPatch;
}

/** Returns the settings, or the message naming the first bad one (never echoing the key). */
function readSettings(env: NodeJS.ProcessEnv): Settings | string {
  const rawPort = env.ACS_EMULATOR_PORT ?? '7090';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    return `ACS_EMULATOR_PORT must be an integer between 0 and 65535 (got '${rawPort}').`;
  }
  const rawLatency = env.ACS_EMULATOR_LATENCY_MS ?? '0';
  const latencyMs = Number(rawLatency);
  if (!/^\d+$/.test(rawLatency)) {
    return `ACS_EMULATOR_LATENCY_MS must be a non-negative integer (got '${rawLatency}').`;
  }
  let stateFile: string | undefined;
  try {
    stateFile = localState(projectRoot, env).emulatorFile;
  } catch (err) {
    return (err as Error).message;
  }
  const quotas = quotasFromEnv(env);
  if (typeof quotas === 'string') return quotas;
  const settings: Settings = {
    port,
    latencyMs,
    quotas,
    ...(stateFile === undefined ? {} : { stateFile }),
  };
  for (const [name, field] of [
    ['ACS_EMULATOR_ACCESS_KEY', 'accessKey'],
    ['ACS_EMULATOR_SECONDARY_ACCESS_KEY', 'secondaryAccessKey'],
  ] as const) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let bytes: number;
    try {
      bytes = decodeAccessKey(value).length;
    } catch {
      return `${name} is not valid base64.`;
    }
    if (bytes < MIN_KEY_BYTES) {
      return `${name} must decode to at least ${MIN_KEY_BYTES} bytes (got ${bytes}).`;
    }
    settings[field] = value;
  }
  return settings;
}

/** The key and port local.settings.json expects of a local emulator, unless set explicitly. */
function fromLocalSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.ACS_EMULATOR_ACCESS_KEY) return env;
  const local: NodeJS.ProcessEnv = {};
  applyLocalSettings(projectRoot, local);
  const expected = loopbackEmulator(local.ACS_CONNECTION_STRING);
  if (!expected) return env;
  console.log('acs-emulator: using the endpoint and key of local.settings.json');
  return {
    ...env,
    ACS_EMULATOR_ACCESS_KEY: expected.accessKey,
    ACS_EMULATOR_PORT: env.ACS_EMULATOR_PORT ?? String(expected.port),
  };
}

async function main(): Promise<void> {
  const settings = readSettings(fromLocalSettings(process.env));
  if (typeof settings === 'string') {
    console.error(`acs-emulator: ${settings}`);
    process.exit(1);
  }
  let emulator;
  try {
    emulator = await startEmulator({
      host: '127.0.0.1',
      port: settings.port,
      ...(settings.accessKey === undefined ? {} : { accessKey: settings.accessKey }),
      ...(settings.stateFile === undefined ? {} : { stateFile: settings.stateFile }),
      ...(settings.secondaryAccessKey === undefined
        ? {}
        : { secondaryAccessKey: settings.secondaryAccessKey }),
      quotas: settings.quotas,
      faults: { latencyMs: settings.latencyMs },
      ...(process.env.ACS_EMULATOR_TEAMS_ISSUER
        ? { teamsIssuer: process.env.ACS_EMULATOR_TEAMS_ISSUER }
        : {}),
    });
  } catch (err) {
    if (err instanceof LocalStateError) {
      console.error(`acs-emulator: ${err.message}`);
      process.exit(1);
    }
    const reason = err instanceof Error ? err.message : String(err);
    console.error(`acs-emulator: cannot start on 127.0.0.1:${settings.port}: ${reason}`);
    process.exit(1);
  }

  console.log(`ACS Identity emulator listening on ${emulator.endpoint}`);
  console.log(`ACS_CONNECTION_STRING=${emulator.connectionString}`);
  console.log(`JWKS: ${emulator.jwksUrl}`);
  console.log(
    settings.stateFile
      ? `State: ${path.relative(process.cwd(), settings.stateFile) || settings.stateFile} (resource ${emulator.resourceId}; \`npm run reset\` clears it)`
      : `State: throw-away (resource ${emulator.resourceId})`,
  );
  console.log(`Admin: ${emulator.url}/admin/stats (Ctrl+C to stop)`);

  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('acs-emulator: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
