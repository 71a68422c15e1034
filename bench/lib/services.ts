import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { azuriteConnectionString, freePort } from '../../dev/azurite';
import { spawnReady } from '../../dev/spawnReady';
import type { OperationCounts } from '../../dev/emulator';
import { send } from './http';

export interface ChildService {
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node <script>` with `env` (plus PATH) and resolves once stdout matches `ready`. */
function startChild(script: string, env: Record<string, string>, ready: RegExp) {
  return spawnReady(script, {
    what: path.basename(script),
    env: { PATH: process.env.PATH ?? '', ...env },
    ready,
    killAfterMs: 5_000,
  });
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
    pid: started.pid,
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
    stop: () => started.stop(),
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
  const port = Number(started.ready[1]);
  return {
    pid: started.pid,
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
    stop: () => started.stop(),
  };
}
