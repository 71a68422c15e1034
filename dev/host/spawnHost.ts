import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

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

/** The host ended before it was ready: a start-up error, with what it printed. */
export class HostExitedError extends Error {
  constructor(
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`host exited with ${code}:\n${output}`);
  }
}

/**
 * Runs the built local host (`node dist/dev/start.js`, as `npm start` does) as a child process
 * with exactly the environment given plus PATH, so no developer setting leaks in, and resolves
 * once it prints that it is ready. Used by the integration tests and the benchmarks.
 */
export async function spawnHost(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<HostProcess> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      // The local issuer starts with every host; tests never take its fixed port.
      ISSUER_PORT: '0',
      FUNCTIONS_LOCAL_SETTINGS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`host did not start:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const m = /Local host ready at (\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        // Long runs print a line per request: stop scanning the whole output on every chunk.
        child.stdout.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new HostExitedError(code, output));
    });
  });

  return {
    url,
    pid: child.pid ?? 0,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
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
