import net from 'node:net';
import path from 'node:path';
import { LOCAL_HOST_READY, localHostEnv } from '../../dev/host/spawnHost';
import { ChildExitedError, spawnReady } from '../../dev/spawnReady';

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
  const stack = await spawnReady(START_SCRIPT, {
    what: 'npm start',
    // npm start runs its own emulator and Azurite too: free ports for them as well.
    env: localHostEnv({
      ACS_EMULATOR_PORT: '0',
      AZURITE_TABLE_PORT: '0',
      LOCAL_STATE_DIR: stateDir,
      ...env,
    }),
    ready: LOCAL_HOST_READY,
    timeoutMs,
    detached: true,
  });
  return {
    url: stack.ready[1] ?? '',
    pid: stack.pid,
    output: () => stack.output(),
    exited: stack.exited,
    banner(pattern) {
      const m = pattern.exec(stack.output());
      if (!m?.[1]) throw new Error(`the banner has no ${String(pattern)}:\n${stack.output()}`);
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
    if (err instanceof ChildExitedError) return { code: err.code, output: err.output };
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
