import { spawn, type ChildProcess } from 'node:child_process';

/** A child process that printed its ready line. */
export interface ReadyChild {
  child: ChildProcess;
  pid: number;
  /** The ready pattern's match in what the child printed. */
  ready: RegExpExecArray;
  /** Everything the child printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the child has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (unless it already ended); resolves once it has ended. */
  stop(): Promise<void>;
}

/** The child ended before it printed its ready line: a start-up error, with what it printed. */
export class ChildExitedError extends Error {
  constructor(
    readonly what: string,
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`${what} exited with ${code}:\n${output}`);
  }
}

export interface SpawnReadyOptions {
  /** Names the child in errors ("host", "npm start", "issuer/main.js"). */
  what: string;
  /** Exactly the environment the child gets (nothing of the parent's leaks in unless given). */
  env: Record<string, string>;
  /** What the child prints once it is ready; checked against stdout (and stderr with `readyOnStderr`). */
  ready: RegExp;
  readyOnStderr?: boolean;
  timeoutMs?: number;
  /** Leader of its own process group, so that the whole group can be signalled. */
  detached?: boolean;
  args?: string[];
  /** After SIGTERM, how long `stop` waits before SIGKILL; unset, it waits for the child. */
  killAfterMs?: number;
}

/**
 * Runs `node <script>` and resolves once it prints its ready line; rejects with
 * `ChildExitedError` when it ends first, and kills it when it is not ready within `timeoutMs`.
 * The one way dev/, bench/ and the tests start a built service of their own.
 */
export async function spawnReady(script: string, options: SpawnReadyOptions): Promise<ReadyChild> {
  const { what, ready, timeoutMs = 15_000 } = options;
  const child = spawn(process.execPath, [script, ...(options.args ?? [])], {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const streams = options.readyOnStderr ? [child.stdout, child.stderr] : [child.stdout];
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not get ready in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const m = ready.exec(output);
      if (!m) return;
      clearTimeout(timer);
      // Long runs print a line per request: stop scanning the whole output on every chunk.
      for (const stream of streams) stream.off('data', onData);
      resolve(m);
    };
    // Registered after the collectors above, so `output` already holds the chunk.
    for (const stream of streams) stream.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new ChildExitedError(what, code, output));
    });
  });
  return {
    child,
    pid: child.pid ?? 0,
    ready: match,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const { killAfterMs } = options;
      const timer =
        killAfterMs === undefined
          ? undefined
          : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
