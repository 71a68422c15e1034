import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const START_SCRIPT = path.resolve(__dirname, '..', '..', 'dist', 'dev', 'start.js');

export interface DevStack {
  url: string;
  /** The parent's pid, which is also its process group's id. */
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first match of `pattern` in what the stack printed (its start-up banner). */
  banner(pattern: RegExp): string;
}

/**
 * `npm start` as a developer runs it (the built `dist/dev/start.js`, with its own emulator and
 * Azurite), but as the leader of its own process group, so that a test can signal the whole
 * group as a terminal's Ctrl-C does. Ephemeral ports; local state where `stateDir` says.
 */
export async function startDevStack(
  stateDir: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<DevStack> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      ACS_EMULATOR_PORT: '0',
      AZURITE_TABLE_PORT: '0',
      ISSUER_PORT: '0',
      FUNCTIONS_LOCAL_SETTINGS: '',
      LOCAL_STATE_DIR: stateDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start did not get ready:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const m = /Local host ready at (\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    output: () => output,
    exited,
    banner(pattern) {
      const m = pattern.exec(output);
      if (!m?.[1]) throw new Error(`the banner has no ${String(pattern)}:\n${output}`);
      return m[1];
    },
  };
}

/** Runs `npm start` expecting it to refuse to start; resolves with its exit code and output. */
export async function startDevStackExpectingFailure(
  stateDir: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  try {
    const stack = await startDevStack(stateDir, env);
    process.kill(stack.pid, 'SIGTERM');
    await stack.exited;
  } catch (err) {
    const m = /npm start exited with (\S+):\n([\s\S]*)$/.exec((err as Error).message);
    if (m) return { code: m[1] === 'null' ? null : Number(m[1]), output: m[2] ?? '' };
    throw err;
  }
  throw new Error('npm start started although it was expected to refuse');
}

/** Whether anything still accepts connections on a loopback port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
