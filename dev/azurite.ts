import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Azurite's documented development account; it only ever guards a local emulator. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  port: number;
  /** The Azurite process (the benchmark reads its CPU time). */
  pid: number;
  connectionString: string;
  /** The account's table endpoint, as IDENTITY_MAP_ENDPOINT takes it (managed identity). */
  tableEndpoint: string;
  stop(): Promise<void>;
}

export function azuriteConnectionString(port: number, protocol: 'http' | 'https' = 'http'): string {
  return `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${protocol}://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
}

/** Asks the OS for a free loopback port (Azurite cannot report one it picked itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`Azurite exited (${child.exitCode})`));
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error('Azurite did not start in time'));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** How long an orderly stop may take before Azurite is killed (its final save is far quicker). */
const STOP_WAIT_MS = 10_000;

/**
 * Starts Azurite's Table service from the project's own node_modules, on loopback, with
 * telemetry off (this machine must not call out) and data kept in `location`.
 *
 * Azurite keeps its tables in LokiJS, which autosaves every 5 s and writes the rest only when
 * Azurite closes in order (see dev/azurite-guard.cjs, preloaded into it, for the path in
 * Azurite's own code). So it runs in its own process group: a Ctrl-C at the terminal, or a
 * signal to `npm start`'s group, reaches only the parent, which then stops it once, in order.
 * The guard also closes it if the parent dies without doing so.
 */
export async function startAzurite(options: {
  location: string;
  port?: number;
  projectRoot: string;
  /**
   * HTTPS with this certificate, and bearer tokens checked as Azurite's `--oauth basic` checks
   * them (node_modules/azurite/dist/src/table/authentication/TableTokenAuthenticator.js,
   * authenticateBasic: nbf/exp/iat present and current, `iss` starting with
   * https://sts.windows.net/ or another Entra authority, `aud` https://storage.azure.com or the
   * account's own endpoint; the signature is not checked). Shared-key requests still work.
   */
  oauth?: { certFile: string; keyFile: string };
}): Promise<RunningAzurite> {
  const port = options.port || (await freePort());
  mkdirSync(options.location, { recursive: true });
  const bin = path.join(
    options.projectRoot,
    'node_modules',
    'azurite',
    'dist',
    'src',
    'table',
    'main.js',
  );
  const guard = path.join(options.projectRoot, 'dev', 'azurite-guard.cjs');
  const child = spawn(
    process.execPath,
    [
      '--require',
      guard,
      bin,
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(port),
      '--location',
      options.location,
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
      ...(options.oauth
        ? ['--oauth', 'basic', '--cert', options.oauth.certFile, '--key', options.oauth.keyFile]
        : []),
    ],
    {
      // The IPC channel is the guard's lifeline to this process.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Its own process group (POSIX), out of reach of signals meant for ours.
      detached: process.platform !== 'win32',
    },
  );
  // The channel is for the child to notice our end; it must not keep this process alive.
  child.channel?.unref();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child, 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`);
  }
  let stopping: Promise<void> | undefined;
  const protocol = options.oauth ? 'https' : 'http';
  return {
    port,
    pid: child.pid ?? 0,
    connectionString: azuriteConnectionString(port, protocol),
    tableEndpoint: `${protocol}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
    stop() {
      return (stopping ??= (async () => {
        // One orderly stop: SIGINT is what Azurite closes (and saves) on.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
        await exited;
        clearTimeout(timer);
      })());
    },
  };
}
