/**
 * `npm run bench`: measures the token service against the seed design (bench/baseline.ts) in the
 * same run, on loopback, and checks the performance targets as ratios. See bench/README.md for
 * the workloads, the definitions and the settings (BENCH_*).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { freePort, startAzurite, type RunningAzurite } from '../dev/azurite';
import { rssMb, spawnHost, type HostProcess } from '../dev/host/spawnHost';
import { eachLimited, send } from './lib/http';
import { fire, type LoadPlan, type RequestShape } from './lib/load';
import { workerNodeOptions } from './lib/deployment';
import { cpuMs } from './lib/proc';
import { renderReport } from './lib/report';
import {
  startEmulatorProcess,
  startTableCounter,
  type EmulatorProcess,
  type TableCounterProcess,
} from './lib/services';
import { median, percentile, round, slope, zipfSampler } from './lib/stats';
import {
  checkTargets,
  type BenchRow,
  type ColdStartRow,
  type ImportTimeRow,
  type LoadRow,
} from './lib/targets';

const projectRoot = path.resolve(__dirname, '..', '..');
const KEY = 'bench-function-key-0123456789';
const BASELINE_ENTRY = 'dist/bench/baseline.js';
const UNBUNDLED_ENTRY = 'dist/src/index.js';
const BUNDLED_ENTRY = 'dist/app/index.js';
const NEW_CALLER_CONCURRENCY = [1, 10, 50];
const RETURNING_CONCURRENCY = 50;
const PRINCIPALS = 1000;
const ZIPF_S = 1.1;
const WORKLOADS = ['new-caller', 'returning', 'cold-start', 'soak'] as const;
type Workload = (typeof WORKLOADS)[number];

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function workloadsToRun(): Set<Workload> {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return new Set(WORKLOADS);
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}`);
  return new Set(names as Workload[]);
}

const settings = {
  acsLatencyMs: intSetting('BENCH_ACS_LATENCY_MS', 20, 0, 5_000),
  seconds: intSetting('BENCH_SECONDS', 10, 1, 600),
  returningRequests: intSetting('BENCH_RETURNING_REQUESTS', 5_000, 100, 1_000_000),
  soakRequests: intSetting('BENCH_SOAK_REQUESTS', 100_000, 1_000, 10_000_000),
  soakMaxSeconds: intSetting('BENCH_SOAK_MAX_SECONDS', 180, 10, 3_600),
  coldStartRuns: intSetting('BENCH_COLD_RUNS', 10, 1, 100),
  warmupRequests: intSetting('BENCH_WARMUP_REQUESTS', 2_000, 0, 1_000_000),
  seed: intSetting('BENCH_SEED', 20_250_101, 0, 2 ** 31),
  principals: PRINCIPALS,
  zipfS: ZIPF_S,
  /** NODE_OPTIONS of every host process: the deployment's, then BENCH_HOST_NODE_OPTIONS. */
  hostNodeOptions: [workerNodeOptions(), process.env.BENCH_HOST_NODE_OPTIONS?.trim() ?? '']
    .join(' ')
    .trim(),
  newCallerConcurrency: NEW_CALLER_CONCURRENCY,
  returningConcurrency: RETURNING_CONCURRENCY,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything started here, stopped in reverse order whatever happens. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => undefined);
}

interface Bench {
  emulator: EmulatorProcess;
  counter: TableCounterProcess;
  azurite: RunningAzurite;
  appEntry: string;
  rows: BenchRow[];
}

function appEntry(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    main?: string;
  };
  if (!pkg.main || pkg.main.includes('*')) throw new Error('package.json main must be one file');
  return pkg.main;
}

function hostEnv(bench: Bench, extra: Record<string, string>): Record<string, string> {
  const profileDir = process.env.BENCH_PROFILE_DIR?.trim();
  const memoryLog = process.env.BENCH_MEMORY_LOG?.trim();
  const nodeOptions = [
    profileDir ? `--require ${path.join(projectRoot, 'dist', 'bench', 'cpuProfile.js')}` : '',
    memoryLog ? `--require ${path.join(projectRoot, 'dist', 'bench', 'memoryWatch.js')}` : '',
    settings.hostNodeOptions,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    ACS_CONNECTION_STRING: bench.emulator.connectionString,
    FUNCTIONS_DEV_KEY: KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_KEY_PER_MINUTE: '0',
    LOG_LEVEL: 'warning',
    LOCAL_HOST_ENTRIES: `${bench.appEntry},${BASELINE_ENTRY}`,
    ...(profileDir ? { BENCH_PROFILE_DIR: path.resolve(profileDir) } : {}),
    ...(memoryLog ? { BENCH_MEMORY_LOG: path.resolve(memoryLog) } : {}),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...extra,
  };
}

async function startHost(bench: Bench, extra: Record<string, string>): Promise<HostProcess> {
  const host = await spawnHost(hostEnv(bench, extra));
  cleanups.push(() => host.stop());
  return host;
}

const json = { 'content-type': 'application/json' };
const oursByKey: RequestShape = {
  method: 'POST',
  path: '/api/token',
  headers: { ...json, 'x-functions-key': KEY },
  body: '{}',
};
const baselineByKey: RequestShape = {
  method: 'POST',
  path: '/api/baseline/token',
  headers: { ...json, 'x-functions-key': KEY },
  body: '{}',
};

interface RowMeta {
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
function cpuSnapshot(bench: Bench, host: HostProcess): CpuSnapshot {
  const own = process.cpuUsage();
  return {
    host: cpuMs(host.pid),
    emulator: cpuMs(bench.emulator.pid),
    tables: cpuMs(bench.azurite.pid) + cpuMs(bench.counter.pid),
    loadGenerator: (own.user + own.system) / 1000,
  };
}

/** CPU per token of each process, and how busy they kept the machine's cores together. */
function cpuSince(before: CpuSnapshot, after: CpuSnapshot, tokens: number, seconds: number) {
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
async function measure(
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
async function warmHost(host: HostProcess, shapes: RequestShape[]): Promise<void> {
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
async function warmUp(host: HostProcess, shape: RequestShape, connections: number) {
  const outcome = await fire(host.url, shape, {
    connections,
    amount: Math.max(20, connections * 10),
    capSeconds: 60,
  });
  return outcome.tokens / outcome.seconds;
}

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

async function newCallerWorkload(bench: Bench): Promise<void> {
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

/** Signs in every principal with the local Easy Auth stand-in; returns their session cookies. */
async function signIn(host: HostProcess, prefix: string): Promise<string[]> {
  const cookies: string[] = new Array<string>(PRINCIPALS);
  await eachLimited(
    Array.from({ length: PRINCIPALS }, (_, i) => i),
    16,
    async (i) => {
      const user = `${prefix}-${String(i).padStart(4, '0')}`;
      const answer = await send(`${host.url}/.auth/login/dev?user=${user}&roles=member`);
      const setCookie = answer.headers['set-cookie']?.[0];
      if (answer.status !== 200 || !setCookie)
        throw new Error(`sign-in of ${user}: ${answer.status}`);
      cookies[i] = setCookie.split(';')[0] ?? '';
    },
  );
  return cookies;
}

/** Each principal's first request, once, in order; recorded as its own row. */
async function warmPrincipals(
  bench: Bench,
  host: HostProcess,
  cookies: string[],
  cache: 'off' | 'on',
): Promise<void> {
  const acsBefore = await bench.emulator.totalCalls();
  const tableBefore = await bench.counter.count();
  const rssStartMb = rssMb(host.pid);
  const cpuBefore = cpuSnapshot(bench, host);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  await eachLimited(cookies, RETURNING_CONCURRENCY, async (cookie) => {
    const t = performance.now();
    const answer = await send(`${host.url}/api/token`, {
      method: 'POST',
      headers: { ...json, cookie },
      body: '{}',
    });
    if (answer.status === 200) latencies.push(performance.now() - t);
    else failures += 1;
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const acsCalls = (await bench.emulator.totalCalls()) - acsBefore;
  const tableOps = (await bench.counter.count()) - tableBefore;
  const tokens = latencies.length;
  const p99Ms = percentile(latencies, 99);
  bench.rows.push({
    workload: 'returning-warmup',
    impl: 'ours',
    cache,
    concurrency: RETURNING_CONCURRENCY,
    requests: cookies.length,
    tokens,
    non2xx: failures,
    errors: 0,
    seconds: round(seconds, 2),
    tokensPerSec: round(tokens / seconds),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(p99Ms, 2),
    overheadP99Ms: round(p99Ms - settings.acsLatencyMs * (acsCalls / tokens), 2),
    acsCalls,
    acsCallsPerToken: round(acsCalls / tokens, 4),
    tableOps,
    tableOpsPerToken: round(tableOps / tokens, 4),
    rssStartMb,
    rssEndMb: rssMb(host.pid),
    ...cpuSince(cpuBefore, cpuSnapshot(bench, host), tokens, seconds),
    loadAverage1m: round(os.loadavg()[0] ?? NaN, 2),
  });
  console.log(
    `  warm-up cache ${cache}: ${tokens} principals, ${acsCalls} ACS calls, ${tableOps} table ops`,
  );
}

/** Page reloads of 1,000 signed-in principals: a seeded Zipf(s≈1.1) pick per request. */
function returningShape(cookies: string[], seed: number, withKey: boolean): RequestShape {
  const pick = zipfSampler(cookies.length, ZIPF_S, seed);
  return {
    method: 'POST',
    path: withKey ? '/api/baseline/token' : '/api/token',
    headers: withKey ? { ...json, 'x-functions-key': KEY } : json,
    body: '{}',
    perRequest: () => ({ cookie: cookies[pick()] ?? '' }),
  };
}

async function returningWorkload(bench: Bench, soak: boolean, returning: boolean): Promise<void> {
  const easyAuth = {
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: bench.counter.connectionString,
  };
  const plan: LoadPlan = {
    connections: RETURNING_CONCURRENCY,
    amount: settings.returningRequests,
    capSeconds: 180,
  };
  /** One returning row: warm the shape on another sequence, then measure the fixed one. */
  async function measureReturning(host: HostProcess, cookies: string[], meta: RowMeta) {
    const baseline = meta.impl === 'baseline';
    await warmUp(host, returningShape(cookies, settings.seed + 1, baseline), RETURNING_CONCURRENCY);
    await measure(bench, host, meta, returningShape(cookies, settings.seed, baseline), plan);
  }
  if (returning) {
    console.log('returning callers, cache off (easyauth)');
    const host = await startHost(bench, easyAuth);
    const cookies = await signIn(host, 'off');
    await warmPrincipals(bench, host, cookies, 'off');
    await warmHost(host, [
      returningShape(cookies, settings.seed + 1, false),
      returningShape(cookies, settings.seed + 1, true),
    ]);
    await measureReturning(host, cookies, { workload: 'returning', impl: 'ours', cache: 'off' });
    // The baseline ignores the principal, but it gets the very same request sequence.
    await measureReturning(host, cookies, { workload: 'returning', impl: 'baseline' });
    await host.stop();
  }

  console.log('returning callers, cache on (easyauth, TOKEN_CACHE_KEY set)');
  const host = await startHost(bench, {
    ...easyAuth,
    TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
  });
  const cookies = await signIn(host, 'on');
  await warmPrincipals(bench, host, cookies, 'on');
  await warmHost(host, [returningShape(cookies, settings.seed + 1, false)]);
  if (returning) {
    await measureReturning(host, cookies, { workload: 'returning', impl: 'ours', cache: 'on' });
  }
  if (soak) await soakRun(bench, host, cookies);
  await host.stop();
}

/** The cache-on mix for BENCH_SOAK_REQUESTS requests, with the host's RSS sampled every second. */
async function soakRun(bench: Bench, host: HostProcess, cookies: string[]): Promise<void> {
  console.log(`soak: ${settings.soakRequests} requests, cache on`);
  let completed = 0;
  const samples: { completed: number; rss: number }[] = [{ completed: 0, rss: rssMb(host.pid) }];
  const sampler = setInterval(() => samples.push({ completed, rss: rssMb(host.pid) }), 1_000);
  let row: LoadRow;
  try {
    row = await measure(
      bench,
      host,
      { workload: 'soak', impl: 'ours', cache: 'on' },
      returningShape(cookies, settings.seed + 2, false),
      {
        connections: RETURNING_CONCURRENCY,
        amount: settings.soakRequests,
        capSeconds: settings.soakMaxSeconds,
        onResponse: () => (completed += 1),
      },
    );
  } finally {
    clearInterval(sampler);
  }
  samples.push({ completed, rss: rssMb(host.pid) });
  const secondHalf = samples.filter((s) => s.completed >= completed / 2);
  row.rssSlopeMbPer10k = round(
    slope(
      secondHalf.map((s) => s.completed),
      secondHalf.map((s) => s.rss),
    ) * 10_000,
    3,
  );
  row.rssPeakMb = Math.max(...samples.map((s) => s.rss));
  const every = Math.ceil(samples.length / 50);
  row.rssSamples = samples
    .filter((_, i) => i % every === 0 || i === samples.length - 1)
    .map((s) => [s.completed, s.rss]);
  row.rssEndMb = samples[samples.length - 1]?.rss ?? row.rssEndMb;
}

/** Spawn → first 200 from POST /api/token, polling every 5 ms on a fresh connection. */
async function coldStartOnce(bench: Bench, entry: string) {
  const port = await freePort();
  const started = performance.now();
  const hostStarting = spawnHost(hostEnv(bench, { PORT: String(port), LOCAL_HOST_ENTRIES: entry }));
  void hostStarting.then((h) => cleanups.push(() => h.stop()));
  const readyMs = hostStarting.then(() => performance.now() - started);
  readyMs.catch(() => undefined);
  let firstTokenMs: number | undefined;
  let lastFailure = '';
  while (firstTokenMs === undefined && performance.now() - started < 20_000) {
    try {
      const answer = await send(`http://127.0.0.1:${port}/api/token`, {
        method: 'POST',
        headers: oursByKey.headers,
        body: '{}',
        agent: false,
        timeoutMs: 10_000,
      });
      if (answer.status === 200) {
        firstTokenMs = performance.now() - started;
        break;
      }
      lastFailure = `status ${answer.status}`;
    } catch (err) {
      lastFailure = (err as Error).message; // not listening yet
    }
    await sleep(5);
  }
  const host = await hostStarting;
  await host.stop();
  if (firstTokenMs === undefined)
    throw new Error(`cold start of ${entry} never served a token: ${lastFailure}`);
  return { firstTokenMs, readyMs: await readyMs };
}

const execFileAsync = promisify(execFile);

async function importTimeOnce(bench: Bench, entry: string): Promise<number> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [path.join(projectRoot, 'dist', 'bench', 'importTime.js'), entry],
    {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', ACS_CONNECTION_STRING: bench.emulator.connectionString },
    },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    importMs: number;
    registrations: number;
  };
  if (!(result.registrations > 0)) throw new Error(`${entry} registered no functions`);
  return result.importMs;
}

async function coldStartWorkload(bench: Bench): Promise<void> {
  console.log(`cold start and import time (${settings.coldStartRuns} fresh processes each)`);
  const entries = [
    { impl: 'unbundled' as const, entry: UNBUNDLED_ENTRY },
    { impl: 'bundled' as const, entry: BUNDLED_ENTRY },
  ].map((e) => ({ ...e, present: existsSync(path.join(projectRoot, e.entry)) }));
  const cold = new Map(
    entries.map((e) => [e.impl, { first: [] as number[], ready: [] as number[] }]),
  );
  const imports = new Map(entries.map((e) => [e.impl, [] as number[]]));
  // Interleaved, so a burst of noise from other work on the machine hits both alike.
  for (let run = 0; run < settings.coldStartRuns; run++) {
    for (const e of entries.filter((x) => x.present)) {
      const once = await coldStartOnce(bench, e.entry);
      cold.get(e.impl)?.first.push(round(once.firstTokenMs));
      cold.get(e.impl)?.ready.push(round(once.readyMs));
      imports.get(e.impl)?.push(round(await importTimeOnce(bench, e.entry)));
    }
  }
  for (const e of entries) {
    if (!e.present) {
      console.log(`  ${e.impl}: ${e.entry} does not exist; row reported as missing`);
      bench.rows.push({ workload: 'cold-start', impl: e.impl, entry: e.entry, missing: true });
      bench.rows.push({ workload: 'import-time', impl: e.impl, entry: e.entry, missing: true });
      continue;
    }
    const samples = cold.get(e.impl) ?? { first: [], ready: [] };
    const coldRow: ColdStartRow = {
      workload: 'cold-start',
      impl: e.impl,
      entry: e.entry,
      firstTokenMs: round(median(samples.first)),
      readyMs: round(median(samples.ready)),
      samplesMs: samples.first,
    };
    const importSamples = imports.get(e.impl) ?? [];
    const importRow: ImportTimeRow = {
      workload: 'import-time',
      impl: e.impl,
      entry: e.entry,
      importMs: round(median(importSamples)),
      samplesMs: importSamples,
    };
    bench.rows.push(coldRow, importRow);
    console.log(
      `  ${e.impl}: first token ${coldRow.firstTokenMs} ms (ready ${coldRow.readyMs} ms), import ${importRow.importMs} ms`,
    );
  }
}

/** Whether the built app reads TOKEN_CACHE_KEY at all; otherwise "cache on" is cache off. */
function buildKnowsTokenCache(entry: string): boolean {
  return [entry, 'dist/src/config.js'].some((file) => {
    const full = path.join(projectRoot, file);
    return existsSync(full) && readFileSync(full, 'utf8').includes('TOKEN_CACHE_KEY');
  });
}

async function main(): Promise<void> {
  const run = workloadsToRun();
  const startedAt = new Date();
  const loadStart = os.loadavg();
  const entry = appEntry();
  console.log(
    `bench: ACS latency ${settings.acsLatencyMs} ms, ${settings.seconds} s per run, app ${entry}, host NODE_OPTIONS "${settings.hostNodeOptions}", ${os.cpus().length} CPUs, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const notes: string[] = [];
  if ((run.has('returning') || run.has('soak')) && !buildKnowsTokenCache(entry)) {
    notes.push('This build never reads TOKEN_CACHE_KEY: the "cache on" rows ran without a cache.');
  }
  if (loadStart[0]! > os.cpus().length * 0.5) {
    notes.push(
      `The machine was busy when the run began (load average ${loadStart[0]!.toFixed(2)} on ${os.cpus().length} CPUs): expect noisy numbers.`,
    );
  }

  const emulator = await startEmulatorProcess(projectRoot, settings.acsLatencyMs);
  cleanups.push(() => emulator.stop());
  const azuriteDir = mkdtempSync(path.join(os.tmpdir(), 'bench-azurite-'));
  cleanups.push(() => Promise.resolve(rmSync(azuriteDir, { recursive: true, force: true })));
  const azurite = await startAzurite({ projectRoot, location: azuriteDir });
  cleanups.push(() => azurite.stop());
  const counter = await startTableCounter(projectRoot, azurite.port);
  cleanups.push(() => counter.stop());
  const bench: Bench = { emulator, counter, azurite, appEntry: entry, rows: [] };

  if (run.has('new-caller')) await newCallerWorkload(bench);
  if (run.has('returning') || run.has('soak')) {
    await returningWorkload(bench, run.has('soak'), run.has('returning'));
  }
  if (run.has('cold-start')) await coldStartWorkload(bench);
  await cleanUp();

  const targets = checkTargets(bench.rows);
  const loadEnd = os.loadavg();
  const busiest = Math.max(
    ...bench.rows.map((r) => ('loadAverage1m' in r ? (r.loadAverage1m ?? 0) : 0)),
  );
  // The bench's own five processes account for a load of about 3 at concurrency 50.
  if (busiest > os.cpus().length + 1.5) {
    notes.push(
      `Other work shared the machine during the run (1-minute load average up to ${busiest.toFixed(2)} on ${os.cpus().length} CPUs): latencies and ratios are noisy.`,
    );
  }
  console.log(renderReport(bench.rows, targets, notes));
  const out = path.resolve(
    projectRoot,
    process.env.BENCH_RESULTS?.trim() || path.join('bench', 'results', 'latest.json'),
  );
  mkdirSync(path.dirname(out), { recursive: true });
  // Written as Prettier would, so `npm run lint` accepts the committed file as it is.
  const text = await format(
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        settings: { ...settings, appEntry: entry, workloads: [...run] },
        machine: {
          node: process.version,
          cpus: os.cpus().length,
          loadAverageStart: loadStart.map((l) => round(l, 2)),
          loadAverageEnd: loadEnd.map((l) => round(l, 2)),
        },
        notes,
        rows: bench.rows,
        targets,
      },
      null,
      2,
    ),
    { ...(await resolveConfig(out)), parser: 'json' },
  );
  writeFileSync(out, text);
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  if (targets.some((t) => t.status !== 'PASS')) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await cleanUp();
  process.exit(1);
});
