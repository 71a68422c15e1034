import { spawn } from 'node:child_process';
import path from 'node:path';

export interface LocalHostProcess {
  url: string;
  key: string;
  /** The host's process id (for /proc/<pid>/status in resource checks). */
  pid: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

const START_SCRIPT = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'start.js');
export const TEST_FUNCTION_KEY = 'test-function-key-0123456789';

/**
 * Runs the built local host (`node dist/dev/start.js`, as `npm start` does) on a free port with a
 * clean environment: only what the test passes, so a developer's settings cannot leak in.
 */
export async function startLocalHost(env: Record<string, string>): Promise<LocalHostProcess> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      FUNCTIONS_DEV_KEY: TEST_FUNCTION_KEY,
      FUNCTIONS_LOCAL_SETTINGS: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { pid } = child;
  if (pid === undefined) throw new Error('the host process could not be spawned');
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${output}`)), 20_000);
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
      reject(new Error(`host exited with ${code}:\n${output}`));
    });
  });

  return {
    url,
    key: env.FUNCTIONS_DEV_KEY ?? TEST_FUNCTION_KEY,
    pid,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs the host expecting it to refuse to start; resolves with its exit code and output. */
export function runHostExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [START_SCRIPT], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', FUNCTIONS_LOCAL_SETTINGS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
