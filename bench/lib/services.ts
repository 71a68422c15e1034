import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { azuriteConnectionString, freePort } from '../../dev/azurite';
import type { OperationCounts } from '../../dev/emulator';
import { send } from './http';

export interface ChildService {
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node <script>` with `env` and resolves with the first stdout match of `ready`. */
async function startChild(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not start:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = ready.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited early:\n${output}`));
    });
  });
  // Keep draining so a chatty child never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    child,
    match,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface EmulatorProcess extends ChildService {
  url: string;
  connectionString: string;
  /** Every ACS operation the emulator has received so far (failed authentication included). */
  totalCalls(): Promise<number>;
  counts(): Promise<OperationCounts>;
  /** Sets the latency the emulator adds to every ACS operation from now on. */
  setLatency(ms: number): Promise<void>;
}

/**
 * The ACS emulator in its own process: RS256 signing costs CPU, and in the load generator's
 * process it would slow the generator down and distort latencies.
 */
export async function startEmulatorProcess(
  projectRoot: string,
  latencyMs: number,
  /** ACS's quotas: off for the throughput benchmarks (they measure CPU), on for `npm run surge`. */
  quotas: 'on' | 'off' = 'off',
): Promise<EmulatorProcess> {
  const port = await freePort();
  const accessKey = randomBytes(32).toString('base64');
  const started = await startChild(
    path.join(projectRoot, 'dist', 'dev', 'emulator', 'main.js'),
    {
      ACS_EMULATOR_PORT: String(port),
      ACS_EMULATOR_ACCESS_KEY: accessKey,
      ACS_EMULATOR_LATENCY_MS: String(latencyMs),
      ACS_EMULATOR_QUOTAS: quotas,
      // A new resource per run: nothing of it is kept in .dev/.
      ACS_EMULATOR_STATE: 'fresh',
    },
    /emulator listening on http/,
  );
  const url = `http://127.0.0.1:${port}`;
  const counts = async () => {
    const answer = await send(`${url}/admin/stats`);
    if (answer.status !== 200) throw new Error(`emulator stats answered ${answer.status}`);
    return (JSON.parse(answer.body) as { calls: OperationCounts }).calls;
  };
  return {
    pid: started.child.pid ?? 0,
    url,
    connectionString: `endpoint=${url}/;accesskey=${accessKey}`,
    counts,
    async totalCalls() {
      return Object.values(await counts()).reduce((sum, n) => sum + n, 0);
    },
    async setLatency(ms) {
      const body = JSON.stringify({ latencyMs: ms });
      const answer = await send(`${url}/admin/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (answer.status !== 200) throw new Error(`emulator faults answered ${answer.status}`);
    },
    stop: started.stop,
  };
}

export interface TableCounterProcess extends ChildService {
  /** Storage connection string that routes the identity map through the counter. */
  connectionString: string;
  count(): Promise<number>;
  /** Sets the latency added before each forwarded Table operation from now on. */
  setLatency(ms: number): Promise<void>;
}

/** The counting proxy (bench/tableCounter.ts) in front of Azurite's table port. */
export async function startTableCounter(
  projectRoot: string,
  azuritePort: number,
): Promise<TableCounterProcess> {
  const started = await startChild(
    path.join(projectRoot, 'dist', 'bench', 'tableCounter.js'),
    { BENCH_TABLE_TARGET_PORT: String(azuritePort) },
    /table counter listening on (\d+)/,
  );
  const port = Number(started.match[1]);
  return {
    pid: started.child.pid ?? 0,
    connectionString: azuriteConnectionString(port),
    async count() {
      const answer = await send(`http://127.0.0.1:${port}/__bench/table-ops`);
      return (JSON.parse(answer.body) as { count: number }).count;
    },
    async setLatency(ms) {
      const answer = await send(`http://127.0.0.1:${port}/__bench/latency?ms=${ms}`, {
        method: 'PUT',
      });
      if (answer.status !== 204) throw new Error(`table counter latency answered ${answer.status}`);
    },
    stop: started.stop,
  };
}
