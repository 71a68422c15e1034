/**
 * Open loop: a fixed arrival rate (BENCH_OPEN_RATE, 40/s) for BENCH_OPEN_SECONDS (60 s) per row,
 * after an unrecorded lead-in at the same rate, with the assumed upstream latencies injected:
 * ACS (emulator) BENCH_OPEN_ACS_LATENCY_MS per operation, Table Storage (counting proxy)
 * BENCH_OPEN_TABLE_LATENCY_MS per operation. Rows: new caller (key mode), returning callers
 * (cache off, cache on), the baseline on both, and the empty function as the floor.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { HostProcess } from '../../dev/host/spawnHost';
import { baselineByKey, oursByKey, settings, startHost, type Bench } from '../lib/context';
import { send } from '../lib/http';
import type { RequestShape } from '../lib/load';
import { warmHost } from '../lib/measure';
import { openLoop } from '../lib/openLoop';
import { easyAuthEnv, returningShape, signIn, warmPrincipals } from '../lib/principals';
import { percentile, round } from '../lib/stats';
import type { OpenLoopRow } from '../lib/targets';

type Meta = Pick<OpenLoopRow, 'workload' | 'impl' | 'cache'>;

/** The host's own process.cpuUsage() in ms, over the bench-only admin route (floorFunctions). */
async function hostCpuMs(host: HostProcess): Promise<number> {
  const answer = await send(`${host.url}/api/bench/cpu`);
  if (answer.status !== 200) throw new Error(`bench/cpu answered ${answer.status}`);
  const { userUs, systemUs } = JSON.parse(answer.body) as { userUs: number; systemUs: number };
  return (userUs + systemUs) / 1000;
}

/** Upstream latencies on for the open-loop rows, or back to the closed-loop settings. */
async function upstreamLatency(bench: Bench, open: boolean): Promise<void> {
  await bench.emulator.setLatency(open ? settings.openAcsLatencyMs : settings.acsLatencyMs);
  await bench.counter.setLatency(open ? settings.openTableLatencyMs : 0);
}

/** Warms the host with no injected latency, so V8 has compiled the hot paths quickly. */
async function warm(bench: Bench, host: HostProcess, shapes: RequestShape[]): Promise<void> {
  await bench.emulator.setLatency(0);
  await bench.counter.setLatency(0);
  await warmHost(host, shapes);
}

async function openRow(
  bench: Bench,
  host: HostProcess,
  meta: Meta,
  lead: RequestShape,
  shape: RequestShape,
): Promise<void> {
  const plan = { ratePerSec: settings.openRatePerSec, seconds: settings.openSeconds };
  if (settings.openWarmupSeconds > 0) {
    await openLoop(host.url, lead, { ...plan, seconds: settings.openWarmupSeconds });
  }
  const acsBefore = await bench.emulator.totalCalls();
  const tableBefore = await bench.counter.count();
  const cpuBefore = await hostCpuMs(host);
  const started = performance.now();
  const outcome = await openLoop(host.url, shape, plan);
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = (await hostCpuMs(host)) - cpuBefore;
  const acsCalls = (await bench.emulator.totalCalls()) - acsBefore;
  const tableOps = (await bench.counter.count()) - tableBefore;
  const perToken = (n: number, digits: number) =>
    outcome.tokens > 0 ? round(n / outcome.tokens, digits) : NaN;
  const row: OpenLoopRow = {
    mode: 'open-loop',
    ...meta,
    arrivalPerSec: settings.openRatePerSec,
    requests: outcome.sent,
    p50Ms: round(percentile(outcome.latencies, 50), 2),
    p90Ms: round(percentile(outcome.latencies, 90), 2),
    p99Ms: round(percentile(outcome.latencies, 99), 2),
    hostCpuMsPerToken: perToken(cpuUsed, 3),
    acsCallsPerToken: perToken(acsCalls, 4),
    tableOpsPerToken: perToken(tableOps, 4),
    tokens: outcome.tokens,
    non2xx: outcome.non2xx,
    errors: outcome.errors,
    acsCalls,
    tableOps,
    seconds: round(seconds, 2),
    acsLatencyMs: settings.openAcsLatencyMs,
    tableLatencyMs: settings.openTableLatencyMs,
    maxSendLagMs: round(outcome.maxSendLagMs, 1),
    loadAverage1m: round(os.loadavg()[0] ?? NaN, 2),
  };
  if (outcome.non2xx > 0 || outcome.errors > 0) {
    console.warn(
      `  ! open loop ${meta.workload}/${meta.impl}: ${outcome.non2xx} non-2xx ${JSON.stringify(outcome.statusCounts)}, ${outcome.errors} errors`,
    );
  }
  console.log(
    `  open loop ${meta.workload} ${meta.impl}${meta.cache ? ` cache ${meta.cache}` : ''}: ${row.requests} at ${row.arrivalPerSec}/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, host CPU ${row.hostCpuMsPerToken} ms/token, table ops/token ${row.tableOpsPerToken} (load average ${row.loadAverage1m})`,
  );
  bench.rows.push(row);
}

/** Polls /api/health until the pool reports `size` ready identities (bounded). */
async function poolFilled(host: HostProcess, size: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await send(`${host.url}/api/health`, { timeoutMs: 30_000 });
    const pool = (JSON.parse(answer.body) as { pool?: { size?: number } }).pool;
    if ((pool?.size ?? 0) >= size) return (performance.now() - started) / 1000;
    if (performance.now() - started > 600_000) throw new Error(`pool not filled: ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A new caller from a warm pool (key mode, issue #22): the host fills a pool big enough for the
 * lead-in and the row at its start-up run (its timer otherwise idle, so no refill competes with
 * the row), warms up on a grant the pool cannot serve, then the row claims one pooled identity per
 * request.
 */
async function poolRow(bench: Bench): Promise<void> {
  const size = settings.openRatePerSec * (settings.openSeconds + settings.openWarmupSeconds) + 100;
  console.log(`  new caller from a warm pool (key mode, ${size} pooled identities)`);
  const host = await startHost(bench, {
    POOL_SIZE: String(size),
    POOL_QUOTA_SHARE: '1',
    POOL_SCHEDULE: '0 0 0 1 1 *',
    TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
    IDENTITY_MAP_CONNECTION: bench.counter.connectionString,
    AzureWebJobsStorage: bench.azurite.connectionString,
  });
  const seconds = await poolFilled(host, size);
  console.log(`    filled in ${round(seconds, 1)} s`);
  // The JIT warmed on the same path up to the pool, which a chat grant cannot claim from.
  await warm(bench, host, [{ ...oursByKey, body: '{"scopes":["chat"]}' }]);
  await upstreamLatency(bench, true);
  await openRow(
    bench,
    host,
    { workload: 'new-caller', impl: 'pool', cache: null },
    oursByKey,
    oursByKey,
  );
  await host.stop();
}

export async function openLoopWorkload(bench: Bench): Promise<void> {
  console.log(
    `open loop: ${settings.openRatePerSec}/s for ${settings.openSeconds} s per row (after ${settings.openWarmupSeconds} s), ACS ${settings.openAcsLatencyMs} ms and Table ${settings.openTableLatencyMs} ms per operation`,
  );
  try {
    console.log('  new caller (key mode)');
    const keyHost = await startHost(bench, {});
    await warm(bench, keyHost, [oursByKey, baselineByKey]);
    await upstreamLatency(bench, true);
    await openRow(
      bench,
      keyHost,
      { workload: 'new-caller', impl: 'ours', cache: null },
      oursByKey,
      oursByKey,
    );
    await openRow(
      bench,
      keyHost,
      { workload: 'new-caller', impl: 'baseline', cache: null },
      baselineByKey,
      baselineByKey,
    );
    await keyHost.stop();

    await poolRow(bench);

    const lead = settings.seed + 1;
    const measured = settings.seed;
    console.log('  returning callers, cache off (easyauth)');
    const offHost = await startHost(bench, easyAuthEnv(bench));
    const offCookies = await signIn(offHost, 'open-off');
    await warm(bench, offHost, []);
    await warmPrincipals(bench, offHost, offCookies, 'off', false);
    await warmHost(offHost, [returningShape(offCookies, lead, false)]);
    await upstreamLatency(bench, true);
    await openRow(
      bench,
      offHost,
      { workload: 'returning', impl: 'ours', cache: 'off' },
      returningShape(offCookies, lead, false),
      returningShape(offCookies, measured, false),
    );
    await offHost.stop();

    console.log(
      '  returning callers, cache on (easyauth, TOKEN_CACHE_KEY set); baseline; empty function',
    );
    const onHost = await startHost(bench, {
      ...easyAuthEnv(bench),
      TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
    });
    const cookies = await signIn(onHost, 'open-on');
    const empty = (seed: number): RequestShape => ({
      ...returningShape(cookies, seed, false),
      path: '/api/bench/empty',
    });
    await warm(bench, onHost, []);
    await warmPrincipals(bench, onHost, cookies, 'on', false);
    await warmHost(onHost, [
      returningShape(cookies, lead, false),
      returningShape(cookies, lead, true),
      empty(lead),
    ]);
    await upstreamLatency(bench, true);
    await openRow(
      bench,
      onHost,
      { workload: 'returning', impl: 'ours', cache: 'on' },
      returningShape(cookies, lead, false),
      returningShape(cookies, measured, false),
    );
    await openRow(
      bench,
      onHost,
      { workload: 'empty', impl: 'floor', cache: null },
      empty(lead),
      empty(measured),
    );
    // The baseline ignores the principal, but it gets the very same request sequence.
    await openRow(
      bench,
      onHost,
      { workload: 'returning', impl: 'baseline', cache: null },
      returningShape(cookies, lead, true),
      returningShape(cookies, measured, true),
    );
    await onHost.stop();
  } finally {
    await upstreamLatency(bench, false);
  }
}
