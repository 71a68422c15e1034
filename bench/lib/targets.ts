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

export type BenchRow = LoadRow | ColdStartRow | ImportTimeRow;

export const LIMITS = {
  /** new caller, concurrency 50: ours/baseline tokens per second. */
  newCallerSpeedup: 1.9,
  /** returning callers, cache on: ours/baseline tokens per second. */
  cachedSpeedup: 10,
  /** ACS calls per token after warm-up with the cache on ("≈ 0"). */
  cachedAcsCallsPerToken: 0.001,
  overheadP99Ms: 5,
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

const isLoad = (r: BenchRow): r is LoadRow =>
  r.workload !== 'cold-start' && r.workload !== 'import-time';

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

/** Busier than this, a run is bound by CPU rather than by the latency it waits for. */
export const CPU_BOUND_PCT = 80;

/**
 * Why a throughput ratio is what it is. When both runs kept the cores busy, each side's rate is
 * capped by its CPU per token across every process on the machine, so the ratio can be no more
 * than baseline CPU per token ÷ ours, however few round trips ours makes.
 */
export function cpuBound(ours: LoadRow, baseline: LoadRow): string {
  const busy = [ours.coresBusyPct, baseline.coresBusyPct];
  if (ours.cpuMsPerToken === undefined || baseline.cpuMsPerToken === undefined) return '';
  if (!busy.every((b) => b !== undefined && b >= CPU_BOUND_PCT)) return '';
  return `; CPU-bound: the cores were ${busy.join('% / ')}% busy, and CPU per token across every process (host, emulator, tables, load generator) was ${f(ours.cpuMsPerToken)} ms ours vs ${f(baseline.cpuMsPerToken)} ms baseline, which allows at most ${ratio(baseline.cpuMsPerToken, ours.cpuMsPerToken)}× on this machine`;
}

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

/** Every target of the benchmark, in the order the README lists them. */
export function checkTargets(rows: BenchRow[]): TargetResult[] {
  const results: TargetResult[] = [];
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

  const at50 = newCaller.find((x) => x.c === 50);
  results.push(
    target(
      `new caller, concurrency 50: ours ≥ ${LIMITS.newCallerSpeedup}× baseline tokens/s`,
      Boolean(at50?.ours && at50.baseline),
      () => at50!.ours!.tokensPerSec >= LIMITS.newCallerSpeedup * at50!.baseline!.tokensPerSec,
      () =>
        `${ratio(at50!.ours!.tokensPerSec, at50!.baseline!.tokensPerSec)}× (${f(at50!.ours!.tokensPerSec, 0)} vs ${f(at50!.baseline!.tokensPerSec, 0)} tokens/s)${cpuBound(at50!.ours!, at50!.baseline!)}`,
      'concurrency 50 not measured',
    ),
  );

  const cacheOn = find(rows, { workload: 'returning', impl: 'ours', cache: 'on' });
  const cacheOff = find(rows, { workload: 'returning', impl: 'ours', cache: 'off' });
  const returningBaseline = find(rows, { workload: 'returning', impl: 'baseline' });
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
      `returning callers, cache on: ours ≥ ${LIMITS.cachedSpeedup}× baseline tokens/s`,
      Boolean(cacheOn && returningBaseline),
      () => cacheOn!.tokensPerSec >= LIMITS.cachedSpeedup * returningBaseline!.tokensPerSec,
      () =>
        `${ratio(cacheOn!.tokensPerSec, returningBaseline!.tokensPerSec)}× (${f(cacheOn!.tokensPerSec, 0)} vs ${f(returningBaseline!.tokensPerSec, 0)} tokens/s)${cpuBound(cacheOn!, returningBaseline!)}`,
      'cache-on or baseline row not measured',
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

  const at10 = newCaller.find((x) => x.c === 10)?.ours;
  const floor10 = find(rows, { workload: 'acs-floor', concurrency: 10 });
  results.push(
    target(
      `overhead: p99 of (latency − injected ACS latency) < ${LIMITS.overheadP99Ms} ms, new caller, concurrency 10`,
      Boolean(at10),
      () => at10!.overheadP99Ms < LIMITS.overheadP99Ms,
      () =>
        `${f(at10!.overheadP99Ms, 1)} ms (p99 ${f(at10!.p99Ms, 1)} ms)${floor10 ? `; the ACS leg alone (SDK → emulator, no service) already has ${f(floor10.overheadP99Ms, 1)} ms, so the service adds ${f(at10!.p99Ms - floor10.p99Ms, 1)} ms to the p99` : ''}`,
      'new caller at concurrency 10 not measured',
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
  // The soak may stop at its time cap on purpose; its counts are not checked for exactness.
  const failed = measured.filter(
    (r) => r.non2xx > 0 || r.errors > 0 || (r.truncated && r.workload !== 'soak'),
  );
  results.push(
    target(
      'every measured request got a 2xx (no errors, no truncated run)',
      measured.length > 0,
      () => failed.length === 0,
      () =>
        failed.length === 0
          ? `${measured.reduce((s, r) => s + r.requests, 0)} requests`
          : failed
              .map(
                (r) =>
                  `${r.workload}/${r.impl}${r.cache ? `/cache ${r.cache}` : ''}/c=${r.concurrency}: ${r.non2xx} non-2xx, ${r.errors} errors${r.truncated ? ', truncated' : ''}`,
              )
              .join('; '),
      'nothing measured',
    ),
  );
  return results;
}
