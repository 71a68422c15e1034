/** One closed-loop measured run and the warm-ups before it, with every counter of the run. */
import os from 'node:os';
import { rssMb, type HostProcess } from '../../dev/host/spawnHost';
import { settings, sleep, type Bench } from './context';
import { fire, type LoadPlan, type RequestShape } from './load';
import { cpuMs } from './proc';
import { percentile, round } from './stats';
import type { LoadRow } from './targets';

export interface RowMeta {
  workload: LoadRow['workload'];
  impl: LoadRow['impl'];
  cache?: LoadRow['cache'];
}

interface CpuSnapshot {
  host: number;
  emulator: number;
  tables: number;
  loadGenerator: number;
}

/** CPU time so far (ms) of every process a run involves; the table side is Azurite + counter. */
export function cpuSnapshot(bench: Bench, host: HostProcess): CpuSnapshot {
  const own = process.cpuUsage();
  return {
    host: cpuMs(host.pid),
    emulator: cpuMs(bench.emulator.pid),
    tables: cpuMs(bench.azurite.pid) + cpuMs(bench.counter.pid),
    loadGenerator: (own.user + own.system) / 1000,
  };
}

/** CPU per token of each process, and how busy they kept the machine's cores together. */
export function cpuSince(before: CpuSnapshot, after: CpuSnapshot, tokens: number, seconds: number) {
  const used = (k: keyof CpuSnapshot) => after[k] - before[k];
  const per = (k: keyof CpuSnapshot) => round(used(k) / tokens, 3);
  const total = used('host') + used('emulator') + used('tables') + used('loadGenerator');
  return {
    hostCpuMsPerToken: per('host'),
    emulatorCpuMsPerToken: per('emulator'),
    tableCpuMsPerToken: per('tables'),
    loadGeneratorCpuMsPerToken: per('loadGenerator'),
    cpuMsPerToken: round(total / tokens, 3),
    coresBusyPct: round((100 * total) / (seconds * 1000 * os.cpus().length), 0),
  };
}

/** One measured run: load plus the emulator's, the table counter's and the host's own numbers. */
export async function measure(
  bench: Bench,
  host: HostProcess,
  meta: RowMeta,
  shape: RequestShape,
  plan: LoadPlan,
): Promise<LoadRow> {
  const acsBefore = await bench.emulator.totalCalls();
  const tableBefore = await bench.counter.count();
  const rssStartMb = rssMb(host.pid);
  const cpuBefore = cpuSnapshot(bench, host);
  const outcome = await fire(host.url, shape, plan);
  const rssEndMb = rssMb(host.pid);
  const cpu = cpuSince(cpuBefore, cpuSnapshot(bench, host), outcome.tokens, outcome.seconds);
  // A truncated run leaves requests in flight; let them reach ACS before the counters are read.
  if (outcome.truncated) await sleep(1_000 + 4 * settings.acsLatencyMs);
  const acsCalls = (await bench.emulator.totalCalls()) - acsBefore;
  const tableOps = (await bench.counter.count()) - tableBefore;
  const perToken = (n: number) => (outcome.tokens > 0 ? n / outcome.tokens : NaN);
  const p99Ms = percentile(outcome.latencies, 99);
  const row: LoadRow = {
    workload: meta.workload,
    impl: meta.impl,
    ...(meta.cache ? { cache: meta.cache } : {}),
    concurrency: plan.connections,
    requests: outcome.tokens + outcome.non2xx,
    tokens: outcome.tokens,
    non2xx: outcome.non2xx,
    errors: outcome.errors,
    seconds: round(outcome.seconds, 2),
    tokensPerSec: round(outcome.tokens / outcome.seconds),
    p50Ms: round(percentile(outcome.latencies, 50), 2),
    p99Ms: round(p99Ms, 2),
    overheadP99Ms: round(p99Ms - settings.acsLatencyMs * perToken(acsCalls), 2),
    acsCalls,
    acsCallsPerToken: round(perToken(acsCalls), 4),
    tableOps,
    tableOpsPerToken: round(perToken(tableOps), 4),
    rssStartMb,
    rssEndMb,
    ...cpu,
    loadAverage1m: round(os.loadavg()[0] ?? NaN, 2),
    ...(outcome.truncated ? { truncated: true } : {}),
  };
  if (outcome.non2xx > 0 || outcome.errors > 0) {
    console.warn(
      `  ! ${meta.workload}/${meta.impl}: ${outcome.non2xx} non-2xx ${JSON.stringify(outcome.statusCounts)}, ${outcome.errors} errors`,
    );
  }
  console.log(
    `  ${meta.workload} ${meta.impl}${meta.cache ? ` cache ${meta.cache}` : ''} c=${plan.connections}: ${row.tokens} tokens, ${row.tokensPerSec}/s, p99 ${row.p99Ms} ms, ACS/token ${row.acsCallsPerToken} (load average ${row.loadAverage1m})`,
  );
  bench.rows.push(row);
  return row;
}

/**
 * Brings a fresh host to steady state before anything on it is measured: until V8 has optimized
 * the hot paths (the host's, the SDK's, the emulator's), a run measures compilation as much as
 * the service. Cold start has its own rows. Unrecorded, at concurrency 10.
 */
export async function warmHost(host: HostProcess, shapes: RequestShape[]): Promise<void> {
  if (settings.warmupRequests === 0) return;
  for (const shape of shapes) {
    await fire(host.url, shape, {
      connections: 10,
      amount: settings.warmupRequests,
      capSeconds: 120,
    });
  }
}

/**
 * Warms a shape up (JIT, connection pools, lazy imports) and returns the rate it reached, so the
 * measured run can be sized. A fixed request count, not a duration: a duration run drops its
 * in-flight requests, whose ACS calls would then land in the next run's counters.
 */
export async function warmUp(host: HostProcess, shape: RequestShape, connections: number) {
  const outcome = await fire(host.url, shape, {
    connections,
    amount: Math.max(20, connections * 10),
    capSeconds: 60,
  });
  return outcome.tokens / outcome.seconds;
}
