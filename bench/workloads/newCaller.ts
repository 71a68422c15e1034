/** Closed loop, a new caller on every request (key mode): ours, the baseline, the ACS leg alone. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  baselineByKey,
  NEW_CALLER_CONCURRENCY,
  oursByKey,
  projectRoot,
  settings,
  startHost,
  type Bench,
} from '../lib/context';
import { measure, warmHost, warmUp } from '../lib/measure';
import { cpuMs } from '../lib/proc';
import { percentile, round } from '../lib/stats';
import type { LoadRow } from '../lib/targets';

const execFileAsync = promisify(execFile);

/**
 * The ACS leg alone at the same concurrency and count (bench/acsFloor.ts in its own process):
 * what any service would pay on this machine before adding a byte of its own.
 */
async function acsFloor(bench: Bench, connections: number, amount: number): Promise<void> {
  const acsBefore = await bench.emulator.totalCalls();
  const emulatorCpuBefore = cpuMs(bench.emulator.pid);
  const { stdout } = await execFileAsync(
    process.execPath,
    [path.join(projectRoot, 'dist', 'bench', 'acsFloor.js'), String(connections), String(amount)],
    {
      env: { PATH: process.env.PATH ?? '', ACS_CONNECTION_STRING: bench.emulator.connectionString },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const result = JSON.parse(stdout) as { seconds: number; latencies: number[] };
  // The floor's own warm-up calls are in the counters too; per token, they are the same call.
  const acsCalls = (await bench.emulator.totalCalls()) - acsBefore;
  const calls = amount + connections;
  const latencies = result.latencies.sort((a, b) => a - b);
  const p99Ms = percentile(latencies, 99);
  const row: LoadRow = {
    workload: 'acs-floor',
    impl: 'sdk-direct',
    concurrency: connections,
    requests: latencies.length,
    tokens: latencies.length,
    non2xx: 0,
    errors: 0,
    seconds: round(result.seconds, 2),
    tokensPerSec: round(latencies.length / result.seconds),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(p99Ms, 2),
    overheadP99Ms: round(p99Ms - settings.acsLatencyMs * (acsCalls / calls), 2),
    acsCalls,
    acsCallsPerToken: round(acsCalls / calls, 4),
    tableOps: 0,
    tableOpsPerToken: 0,
    rssStartMb: NaN,
    rssEndMb: NaN,
    emulatorCpuMsPerToken: round((cpuMs(bench.emulator.pid) - emulatorCpuBefore) / calls, 3),
  };
  bench.rows.push(row);
  console.log(
    `  acs-floor sdk-direct c=${connections}: ${row.tokensPerSec}/s, p99 ${row.p99Ms} ms`,
  );
}

export async function newCallerWorkload(bench: Bench): Promise<void> {
  console.log('new caller every request (key mode)');
  const host = await startHost(bench, {});
  await warmHost(host, [oursByKey, baselineByKey]);
  for (const connections of NEW_CALLER_CONCURRENCY) {
    let floorAmount = connections * 4;
    for (const [impl, shape] of [
      ['ours', oursByKey],
      ['baseline', baselineByKey],
    ] as const) {
      const rate = await warmUp(host, shape, connections);
      // A fixed request count, sized to last about BENCH_SECONDS, so every token is accounted for.
      const amount = Math.max(connections * 4, Math.round(rate * settings.seconds));
      const row = await measure(bench, host, { workload: 'new-caller', impl }, shape, {
        connections,
        amount,
        capSeconds: settings.seconds * 4 + 10,
      });
      if (impl === 'ours') floorAmount = row.tokens;
    }
    await acsFloor(bench, connections, floorAmount);
  }
  await host.stop();
}
