import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnReady } from '../spawnReady';

export interface HostProcess {
  url: string;
  pid: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** The project root, found from here whether this runs from source (tests) or from dist. */
function projectRoot(from = __dirname): string {
  return existsSync(path.join(from, 'package.json')) ? from : projectRoot(path.dirname(from));
}

const START_SCRIPT = path.join(projectRoot(), 'dist', 'dev', 'start.js');

/** The line the local host prints once it serves requests (dev/start.ts), with its URL. */
export const LOCAL_HOST_READY = /Local host ready at (\S+)/;

/**
 * `env` plus what every spawned local host needs: PATH, a free port for the host and for the
 * local issuer it starts (never their fixed ones), and no local.settings.json of the developer.
 */
export function localHostEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    ISSUER_PORT: '0',
    FUNCTIONS_LOCAL_SETTINGS: '',
    ...env,
  };
}

/**
 * Runs the built local host (`node dist/dev/start.js`, as `npm start` does) as a child process
 * with exactly the environment given plus PATH, so no developer setting leaks in, and resolves
 * once it prints that it is ready; a host that ends first rejects with `ChildExitedError`. Used
 * by the integration tests and the benchmarks.
 */
export async function spawnHost(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<HostProcess> {
  const host = await spawnReady(START_SCRIPT, {
    what: 'host',
    env: localHostEnv(env),
    ready: LOCAL_HOST_READY,
    timeoutMs,
  });
  return {
    url: host.ready[1] ?? '',
    pid: host.pid,
    output: () => host.output(),
    exited: host.exited.then(({ code }) => code),
    stop: () => host.stop(),
  };
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return NaN;
  }
}
