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
  /** `empty-v4`: an empty v4 app (bench/emptyApp.ts), the baseline of the cold-start target. */
  impl: 'bundled' | 'unbundled' | 'empty-v4';
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
  /** `floor`: the empty function served by the same host process; `pool`: ours, warm pool. */
  impl: 'ours' | 'baseline' | 'floor' | 'pool';
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
  /** Open loop, new caller from a warm pool: p50 against today's new caller (ACS replaced by Table). */
  poolNewCallerP50Ratio: 0.3,
  /** ACS calls per token after warm-up with the cache on ("≈ 0"). */
  cachedAcsCallsPerToken: 0.001,
  /** Cold start of the bundled app against an empty v4 app on the same host, same run. */
  coldStartOverEmptyApp: 1.5,
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
  const newPool = findOpen(rows, { workload: 'new-caller', impl: 'pool' });
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
      `open loop, new caller from a warm pool: p50 ≤ ${LIMITS.poolNewCallerP50Ratio}× today's new caller p50`,
      newPool,
      newOurs,
      'p50Ms',
      LIMITS.poolNewCallerP50Ratio,
      ['new-caller/pool', 'new-caller/ours'],
    ),
    target(
      'open loop, new caller from a warm pool: 0 ACS calls, every answer a token',
      Boolean(newPool),
      () => newPool!.tokens > 0 && newPool!.acsCalls === 0,
      () => `${newPool!.acsCalls} ACS calls for ${newPool!.tokens} tokens`,
      notMeasured(['new-caller/pool', newPool]),
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

  const coldOf = (impl: ColdStartRow['impl']) =>
    rows.find((r): r is ColdStartRow => r.workload === 'cold-start' && r.impl === impl);
  const cold = coldOf('bundled');
  const empty = coldOf('empty-v4');
  results.push(
    target(
      `cold start of the bundled app ≤ ${LIMITS.coldStartOverEmptyApp}× an empty v4 app's, same host, same run`,
      cold?.firstTokenMs !== undefined && empty?.firstTokenMs !== undefined,
      () => cold!.firstTokenMs! <= LIMITS.coldStartOverEmptyApp * empty!.firstTokenMs!,
      () =>
        atMost(cold!.firstTokenMs!, empty!.firstTokenMs!, LIMITS.coldStartOverEmptyApp, 'ms', 0),
      cold?.missing
        ? `${cold.entry} does not exist (bundle not built yet)`
        : empty?.missing
          ? `${empty.entry} does not exist`
          : 'not measured',
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

/**
 * One row of `npm run surge` (bench/results/surge.json). `ours` and `baseline`: 3,000 new and
 * 10,000 returning users on today's design and on the seed design; `pool` and `baseline-crowd`:
 * the launch crowd of new users against a filled identity pool, and the seed design on the same
 * crowd (docs/performance.md, "Surge").
 */
export interface SurgeRecord {
  impl: 'ours' | 'baseline' | 'pool' | 'baseline-crowd';
  instances: number;
  newUsers: number;
  returningUsers: number;
  served: number;
  served429: number;
  errors5xx: number;
  acs429Received: number;
  acsCalls: number;
  orphanIdentities: number;
  /** Users who ended up with two identities, plus identities handed to two users. */
  duplicateIdentities: number;
  p50Ms: number;
  p99Ms: number;
  /** Crowd rows: every ACS call any instance made while the crowd arrived (the filler's too). */
  acsCallsDuringCrowd?: number;
  /** Crowd rows: new users served, and their latencies. */
  newServed?: number;
  newP50Ms?: number;
  newP99Ms?: number;
  /** Pool row: p50 of returning users answered from the cache in the same phase. */
  cachedP50Ms?: number;
  /** The machine's 1-minute load average when the phase ended. */
  loadAverage1m?: number;
}

export const SURGE_LIMITS = {
  servedOverSeed: 2,
  refusedShareAfterFirst429: 0.05,
  crowd429Share: 0.01,
  crowdP50OverCached: 2,
  crowdP99Ms: 250,
  crowdAcsCallsPerUser: 0.1,
  crowdServedOverSeed: 3,
} as const;

/** What the surge knows beyond its rows: today's design's per-instance 429 share and returning users. */
export interface SurgeFacts {
  oursReturningServed?: number;
  oursRefusedShareAfterFirst429?: number;
}

/** The surge's targets: five for today's design against the seed, five for the pooled crowd. */
export function surgeTargets(records: SurgeRecord[], facts: SurgeFacts): TargetResult[] {
  const row = (impl: SurgeRecord['impl']) => records.find((r) => r.impl === impl);
  const ours = row('ours');
  const baseline = row('baseline');
  const pool = row('pool');
  const seedCrowd = row('baseline-crowd');
  const clean = (r: SurgeRecord) => r.orphanIdentities === 0 && r.duplicateIdentities === 0;
  const results: TargetResult[] = [
    target(
      'ours: 0 x 5xx',
      Boolean(ours),
      () => ours!.errors5xx === 0,
      () => `${ours!.errors5xx} x 5xx`,
      'ours not measured',
    ),
    target(
      'ours: 0 orphan and 0 duplicate identities across instances',
      Boolean(ours),
      () => clean(ours!),
      () => `${ours!.orphanIdentities} orphans, ${ours!.duplicateIdentities} duplicates`,
      'ours not measured',
    ),
    target(
      'ours: every returning user served',
      Boolean(ours) && facts.oursReturningServed !== undefined,
      () => facts.oursReturningServed === ours!.returningUsers,
      () => `${facts.oursReturningServed} of ${ours!.returningUsers}`,
      'ours not measured',
    ),
    target(
      `ours: after the first 429 per instance, <= ${SURGE_LIMITS.refusedShareAfterFirst429 * 100}% of ACS calls refused`,
      facts.oursRefusedShareAfterFirst429 !== undefined,
      () => facts.oursRefusedShareAfterFirst429! <= SURGE_LIMITS.refusedShareAfterFirst429,
      () => `${f(facts.oursRefusedShareAfterFirst429! * 100, 2)}%`,
      'ours not measured',
    ),
    target(
      `ours: >= ${SURGE_LIMITS.servedOverSeed}x the users served by the seed design`,
      Boolean(ours && baseline),
      () => ours!.served >= SURGE_LIMITS.servedOverSeed * baseline!.served,
      () => `${ours!.served} vs ${baseline!.served}: ${ratio(ours!.served, baseline!.served)}×`,
      'ours or baseline not measured',
    ),
  ];
  const crowdMissing = 'the pooled crowd was not run (SURGE_CROWD_USERS=0)';
  results.push(
    target(
      'pool: 0 x 5xx, 0 orphan and 0 duplicate identities',
      Boolean(pool),
      () => pool!.errors5xx === 0 && clean(pool!),
      () =>
        `${pool!.errors5xx} x 5xx, ${pool!.orphanIdentities} orphans, ${pool!.duplicateIdentities} duplicates`,
      crowdMissing,
    ),
    target(
      `pool: at most ${SURGE_LIMITS.crowd429Share * 100}% of new users answered 429`,
      Boolean(pool),
      () => pool!.served429 <= SURGE_LIMITS.crowd429Share * pool!.newUsers,
      () => `${pool!.served429} 429s for ${pool!.newUsers} new users`,
      crowdMissing,
    ),
    target(
      `pool: new-user p50 ≤ ${SURGE_LIMITS.crowdP50OverCached}× a cached returning user's, p99 ≤ ${SURGE_LIMITS.crowdP99Ms} ms`,
      Boolean(pool && pool.newP50Ms !== undefined && pool.cachedP50Ms !== undefined),
      () =>
        pool!.newP50Ms! <= SURGE_LIMITS.crowdP50OverCached * pool!.cachedP50Ms! &&
        pool!.newP99Ms! <= SURGE_LIMITS.crowdP99Ms,
      () =>
        `p50 ${atMost(pool!.newP50Ms!, pool!.cachedP50Ms!, SURGE_LIMITS.crowdP50OverCached, 'ms')}; p99 ${f(pool!.newP99Ms!, 1)} ms`,
      crowdMissing,
    ),
    target(
      `pool: ACS calls during the crowd ≤ ${SURGE_LIMITS.crowdAcsCallsPerUser} per new user`,
      Boolean(pool && pool.acsCallsDuringCrowd !== undefined),
      () => pool!.acsCallsDuringCrowd! <= SURGE_LIMITS.crowdAcsCallsPerUser * pool!.newUsers,
      () => `${pool!.acsCallsDuringCrowd} for ${pool!.newUsers} new users`,
      crowdMissing,
    ),
    target(
      `pool: >= ${SURGE_LIMITS.crowdServedOverSeed}x the new users served by the seed design on the same crowd`,
      Boolean(pool && seedCrowd),
      () =>
        (pool!.newServed ?? 0) >= SURGE_LIMITS.crowdServedOverSeed * (seedCrowd!.newServed ?? 0),
      () =>
        `${pool!.newServed} vs ${seedCrowd!.newServed}: ${ratio(pool!.newServed ?? 0, seedCrowd!.newServed ?? 0)}×`,
      crowdMissing,
    ),
  );
  return results;
}
