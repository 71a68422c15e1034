/** The rows `npm run bench` records and the targets it checks them against (pure, unit-tested). */

/** `sdk-direct`: the ACS floor, an SDK client calling the emulator with no service in between. */
export type Impl = 'ours' | 'baseline' | 'sdk-direct';

/** One measured load run. */
export interface LoadRow {
  workload: 'new-caller' | 'acs-floor' | 'returning' | 'returning-warmup' | 'soak';
  impl: Impl;
  /** Returning callers only: whether the host ran with TOKEN_CACHE_KEY set. */
  cache?: 'off' | 'on';
  concurrency: number;
  /** Responses received (2xx or not). */
  requests: number;
  /** 2xx responses. */
  tokens: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  tokensPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 minus the latency the emulator injected into the ACS calls of an average token. */
  overheadP99Ms: number;
  acsCalls: number;
  acsCallsPerToken: number;
  tableOps: number;
  tableOpsPerToken: number;
  rssStartMb: number;
  rssEndMb: number;
  /** CPU time the host process used per token (all threads); steady even on a busy machine. */
  hostCpuMsPerToken?: number;
  /** CPU time the ACS emulator used per token (HMAC checks, RS256 signing). */
  emulatorCpuMsPerToken?: number;
  /** CPU time Azurite and the table counter used per token. */
  tableCpuMsPerToken?: number;
  /** CPU time the bench process (autocannon) used per token. */
  loadGeneratorCpuMsPerToken?: number;
  /** All of the above together: what one token costs the machine. */
  cpuMsPerToken?: number;
  /** That CPU time over the run's wall time and every core, in percent. */
  coresBusyPct?: number;
  /** The machine's 1-minute load average when the run ended (the bench's own processes count too). */
  loadAverage1m?: number;
  /** Stopped at its time cap before every request was answered: counts are approximate. */
  truncated?: boolean;
  /** Soak only: least-squares slope of host RSS over requests, second half of the run. */
  rssSlopeMbPer10k?: number;
  rssPeakMb?: number;
  /** Soak only: [completed requests, host RSS MB], thinned to at most 50 points. */
  rssSamples?: [number, number][];
}

/** Spawn → first 200 from POST /api/token, median of several fresh host processes. */
export interface ColdStartRow {
  workload: 'cold-start';
  impl: 'bundled' | 'unbundled';
  entry: string;
  /** The entry file does not exist (yet): nothing was measured. */
  missing?: boolean;
  firstTokenMs?: number;
  /** Spawn → the host's "ready" line, median. */
  readyMs?: number;
  samplesMs?: number[];
}

/** `require(entry)` in a fresh process with the functions-core stand-in, median. */
export interface ImportTimeRow {
  workload: 'import-time';
  impl: 'bundled' | 'unbundled';
  entry: string;
  missing?: boolean;
  importMs?: number;
  samplesMs?: number[];
}

/**
 * One open-loop row: a fixed arrival rate for a fixed time, latency from each request's scheduled
 * send time, with the injected upstream latencies (bench/README.md, "Open loop").
 */
export interface OpenLoopRow {
  mode: 'open-loop';
  workload: 'new-caller' | 'returning' | 'empty';
  /** `floor`: the empty function served by the same host process. */
  impl: 'ours' | 'baseline' | 'floor';
  /** Ours on returning callers: TOKEN_CACHE_KEY set or not; null for the baseline and the floor. */
  cache: 'on' | 'off' | null;
  arrivalPerSec: number;
  /** Requests sent (every one is answered or counted as an error before the row ends). */
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** The host's own process.cpuUsage() delta over the row, per answered request. */
  hostCpuMsPerToken: number;
  acsCallsPerToken: number;
  tableOpsPerToken: number;
  tokens: number;
  non2xx: number;
  errors: number;
  acsCalls: number;
  tableOps: number;
  seconds: number;
  /** Injected latencies the row ran with. */
  acsLatencyMs: number;
  tableLatencyMs: number;
  /** The generator's own worst lateness in sending (counted in the latencies, not hidden). */
  maxSendLagMs: number;
  loadAverage1m?: number;
}

export type BenchRow = LoadRow | ColdStartRow | ImportTimeRow | OpenLoopRow;

export const LIMITS = {
  /** Open loop, new caller: ours p50 ≤ this × the baseline's (one ACS round trip, not two). */
  newCallerP50Ratio: 0.6,
  /** Open loop, returning callers with the cache on: p50 and p99 against the baseline's. */
  cachedP50Ratio: 0.1,
  cachedP99Ratio: 0.2,
  /** Open loop, cache on: table operations per token (the in-process layer answers the rest). */
  cachedTableOpsPerToken: 0.3,
  /** Host CPU per token: cached hit against the empty function, new caller against the baseline. */
  cachedCpuOverFloor: 2,
  newCallerCpuRatio: 0.75,
  /** ACS calls per token after warm-up with the cache on ("≈ 0"). */
  cachedAcsCallsPerToken: 0.001,
  coldStartMs: 500,
  importMs: 150,
  soakRssMb: 150,
  /** More than this is an upward trend (1 MB per 10k requests ≈ 100 bytes kept per request). */
  soakSlopeMbPer10k: 1,
} as const;

export type TargetStatus = 'PASS' | 'FAIL' | 'MISSING';

export interface TargetResult {
  status: TargetStatus;
  name: string;
  detail: string;
}

export const isOpenLoop = (r: BenchRow): r is OpenLoopRow => 'mode' in r;
export const isLoad = (r: BenchRow): r is LoadRow =>
  !isOpenLoop(r) && r.workload !== 'cold-start' && r.workload !== 'import-time';

function findOpen(rows: BenchRow[], match: Partial<OpenLoopRow>): OpenLoopRow | undefined {
  return rows
    .filter(isOpenLoop)
    .find((r) =>
      Object.entries(match).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    );
}

function find(rows: BenchRow[], match: Partial<LoadRow>): LoadRow | undefined {
  return rows
    .filter(isLoad)
    .find((r) =>
      Object.entries(match).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
    );
}

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
/** Ratios are cut, not rounded, so a ratio shown as 1.90× never fails a 1.9× target. */
const ratio = (a: number, b: number) => f(Math.floor((a / b) * 100) / 100);

function target(
  name: string,
  measured: boolean,
  pass: () => boolean,
  detail: () => string,
  missing: string,
): TargetResult {
  if (!measured) return { status: 'MISSING', name, detail: missing };
  return { status: pass() ? 'PASS' : 'FAIL', name, detail: detail() };
}

/** `a` ≤ limit × `b`, shown with both numbers and the ratio (cut, never rounded up). */
function atMost(
  a: number,
  b: number,
  limit: number,
  unit: string,
  digits = 1,
): TargetResult['detail'] {
  return `${f(a, digits)} vs ${f(b, digits)} ${unit}: ${ratio(a, b)}× (limit ${limit}×)`;
}

/** The open-loop targets: latency at a fixed arrival rate, CPU per token against the floor. */
export function openLoopTargets(rows: BenchRow[]): TargetResult[] {
  const newOurs = findOpen(rows, { workload: 'new-caller', impl: 'ours' });
  const newBase = findOpen(rows, { workload: 'new-caller', impl: 'baseline' });
  const cachedOurs = findOpen(rows, { workload: 'returning', impl: 'ours', cache: 'on' });
  const uncachedOurs = findOpen(rows, { workload: 'returning', impl: 'ours', cache: 'off' });
  const returningBase = findOpen(rows, { workload: 'returning', impl: 'baseline' });
  const floor = findOpen(rows, { workload: 'empty', impl: 'floor' });
  const notMeasured = (...names: [string, OpenLoopRow | undefined][]) =>
    `${names
      .filter(([, r]) => !r)
      .map(([n]) => n)
      .join(', ')} not measured`;
  const ratioTarget = (
    name: string,
    a: OpenLoopRow | undefined,
    b: OpenLoopRow | undefined,
    key: 'p50Ms' | 'p99Ms' | 'hostCpuMsPerToken',
    limit: number,
    names: [string, string],
  ) =>
    target(
      name,
      Boolean(a && b && Number.isFinite(a[key]) && Number.isFinite(b[key])),
      () => a![key] <= limit * b![key],
      () =>
        atMost(
          a![key],
          b![key],
          limit,
          key === 'hostCpuMsPerToken' ? 'ms CPU per token' : 'ms',
          key === 'hostCpuMsPerToken' ? 3 : 1,
        ),
      notMeasured([names[0], a], [names[1], b]),
    );
  return [
    ratioTarget(
      `open loop, new caller: ours p50 ≤ ${LIMITS.newCallerP50Ratio}× baseline p50`,
      newOurs,
      newBase,
      'p50Ms',
      LIMITS.newCallerP50Ratio,
      ['new-caller/ours', 'new-caller/baseline'],
    ),
    ratioTarget(
      `open loop, returning callers, cache on: ours p50 ≤ ${LIMITS.cachedP50Ratio}× baseline p50`,
      cachedOurs,
      returningBase,
      'p50Ms',
      LIMITS.cachedP50Ratio,
      ['returning/ours/cache on', 'returning/baseline'],
    ),
    ratioTarget(
      `open loop, returning callers, cache on: ours p99 ≤ ${LIMITS.cachedP99Ratio}× baseline p99`,
      cachedOurs,
      returningBase,
      'p99Ms',
      LIMITS.cachedP99Ratio,
      ['returning/ours/cache on', 'returning/baseline'],
    ),
    target(
      `open loop, returning callers, cache on: ≤ ${LIMITS.cachedTableOpsPerToken} table operations per token`,
      Boolean(cachedOurs),
      () => cachedOurs!.tokens > 0 && cachedOurs!.tableOpsPerToken <= LIMITS.cachedTableOpsPerToken,
      () =>
        `${f(cachedOurs!.tableOpsPerToken, 3)} per token (${cachedOurs!.tableOps} for ${cachedOurs!.tokens}; limit ${LIMITS.cachedTableOpsPerToken})`,
      notMeasured(['returning/ours/cache on', cachedOurs]),
    ),
    ratioTarget(
      `host CPU per token, cached returning caller ≤ ${LIMITS.cachedCpuOverFloor}× the empty function's`,
      cachedOurs,
      floor,
      'hostCpuMsPerToken',
      LIMITS.cachedCpuOverFloor,
      ['returning/ours/cache on', 'empty/floor'],
    ),
    ratioTarget(
      `host CPU per token, new caller: ours ≤ ${LIMITS.newCallerCpuRatio}× baseline`,
      newOurs,
      newBase,
      'hostCpuMsPerToken',
      LIMITS.newCallerCpuRatio,
      ['new-caller/ours', 'new-caller/baseline'],
    ),
    target(
      'open loop: exactly 1 ACS call per new caller and per uncached returning caller (baseline 2), 0 per cached hit',
      Boolean(newOurs && newBase && cachedOurs && uncachedOurs),
      () =>
        newOurs!.acsCalls === newOurs!.tokens &&
        newBase!.acsCalls === 2 * newBase!.tokens &&
        uncachedOurs!.acsCalls === uncachedOurs!.tokens &&
        cachedOurs!.tokens > 0 &&
        cachedOurs!.acsCallsPerToken <= LIMITS.cachedAcsCallsPerToken,
      () =>
        `new caller ours ${newOurs!.acsCalls}/${newOurs!.tokens}, baseline ${newBase!.acsCalls}/${newBase!.tokens}; returning cache off ${uncachedOurs!.acsCalls}/${uncachedOurs!.tokens}, cache on ${cachedOurs!.acsCalls}/${cachedOurs!.tokens}`,
      notMeasured(
        ['new-caller/ours', newOurs],
        ['new-caller/baseline', newBase],
        ['returning/ours/cache off', uncachedOurs],
        ['returning/ours/cache on', cachedOurs],
      ),
    ),
  ];
}

/** Every target of the benchmark, in the order the README lists them. */
export function checkTargets(rows: BenchRow[]): TargetResult[] {
  const results: TargetResult[] = openLoopTargets(rows);
  const concurrencies = [
    ...new Set(
      rows
        .filter(isLoad)
        .filter((r) => r.workload === 'new-caller')
        .map((r) => r.concurrency),
    ),
  ].sort((a, b) => a - b);

  const newCaller = concurrencies.map((c) => ({
    c,
    ours: find(rows, { workload: 'new-caller', impl: 'ours', concurrency: c }),
    baseline: find(rows, { workload: 'new-caller', impl: 'baseline', concurrency: c }),
  }));
  results.push(
    target(
      'new caller: ours makes exactly 1 ACS call per token (baseline 2)',
      newCaller.length > 0 && newCaller.every((x) => x.ours && x.baseline),
      () =>
        newCaller.every(
          (x) =>
            x.ours!.acsCalls === x.ours!.tokens && x.baseline!.acsCalls === 2 * x.baseline!.tokens,
        ),
      () =>
        newCaller
          .map(
            (x) =>
              `c=${x.c}: ours ${x.ours!.acsCalls}/${x.ours!.tokens}, baseline ${x.baseline!.acsCalls}/${x.baseline!.tokens}`,
          )
          .join('; '),
      'new-caller rows not measured',
    ),
  );

  const cacheOn = find(rows, { workload: 'returning', impl: 'ours', cache: 'on' });
  const cacheOff = find(rows, { workload: 'returning', impl: 'ours', cache: 'off' });
  results.push(
    target(
      `returning callers, cache on: ≈0 ACS calls per token after warm-up (≤ ${LIMITS.cachedAcsCallsPerToken})`,
      Boolean(cacheOn),
      () => cacheOn!.tokens > 0 && cacheOn!.acsCallsPerToken <= LIMITS.cachedAcsCallsPerToken,
      () =>
        `${cacheOn!.acsCalls} ACS calls for ${cacheOn!.tokens} tokens (${f(cacheOn!.acsCallsPerToken, 3)} per token)`,
      'cache-on row not measured',
    ),
  );
  results.push(
    target(
      'returning callers, cache off: exactly 1 ACS call per token',
      Boolean(cacheOff),
      () => cacheOff!.tokens > 0 && cacheOff!.acsCalls === cacheOff!.tokens,
      () => `${cacheOff!.acsCalls} ACS calls for ${cacheOff!.tokens} tokens`,
      'cache-off row not measured',
    ),
  );

  const cold = rows.find(
    (r): r is ColdStartRow => r.workload === 'cold-start' && r.impl === 'bundled',
  );
  results.push(
    target(
      `cold start of the bundled app ≤ ${LIMITS.coldStartMs} ms to the first token`,
      cold?.firstTokenMs !== undefined,
      () => cold!.firstTokenMs! <= LIMITS.coldStartMs,
      () => `median ${f(cold!.firstTokenMs!, 0)} ms`,
      cold?.missing ? `${cold.entry} does not exist (bundle not built yet)` : 'not measured',
    ),
  );
  const imported = rows.find(
    (r): r is ImportTimeRow => r.workload === 'import-time' && r.impl === 'bundled',
  );
  results.push(
    target(
      `importing the bundled entry module ≤ ${LIMITS.importMs} ms`,
      imported?.importMs !== undefined,
      () => imported!.importMs! <= LIMITS.importMs,
      () => `median ${f(imported!.importMs!, 0)} ms`,
      imported?.missing
        ? `${imported.entry} does not exist (bundle not built yet)`
        : 'not measured',
    ),
  );

  const soak = find(rows, { workload: 'soak' });
  results.push(
    target(
      `soak: host RSS < ${LIMITS.soakRssMb} MB at the end and no upward trend (≤ ${LIMITS.soakSlopeMbPer10k} MB per 10k requests)`,
      Boolean(soak && soak.rssSlopeMbPer10k !== undefined),
      () =>
        soak!.rssEndMb < LIMITS.soakRssMb && soak!.rssSlopeMbPer10k! <= LIMITS.soakSlopeMbPer10k,
      () =>
        `RSS ${f(soak!.rssStartMb, 1)} → ${f(soak!.rssEndMb, 1)} MB over ${soak!.requests} requests${soak!.truncated ? ' (stopped at BENCH_SOAK_MAX_SECONDS)' : ''}, slope ${f(soak!.rssSlopeMbPer10k!)} MB/10k`,
      'soak not measured',
    ),
  );

  const measured = rows.filter(isLoad);
  const open = rows.filter(isOpenLoop);
  // The soak may stop at its time cap on purpose; its counts are not checked for exactness.
  const failed = [
    ...measured
      .filter((r) => r.non2xx > 0 || r.errors > 0 || (r.truncated && r.workload !== 'soak'))
      .map(
        (r) =>
          `${r.workload}/${r.impl}${r.cache ? `/cache ${r.cache}` : ''}/c=${r.concurrency}: ${r.non2xx} non-2xx, ${r.errors} errors${r.truncated ? ', truncated' : ''}`,
      ),
    ...open
      .filter((r) => r.non2xx > 0 || r.errors > 0)
      .map(
        (r) =>
          `open loop ${r.workload}/${r.impl}${r.cache ? `/cache ${r.cache}` : ''}: ${r.non2xx} non-2xx, ${r.errors} errors`,
      ),
  ];
  const total = [...measured, ...open].reduce((sum, r) => sum + r.requests, 0);
  results.push(
    target(
      'every measured request got a 2xx (no errors, no truncated run)',
      measured.length + open.length > 0,
      () => failed.length === 0,
      () => (failed.length === 0 ? `${total} requests` : failed.join('; ')),
      'nothing measured',
    ),
  );
  return results;
}
