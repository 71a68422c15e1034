import {
  checkTargets,
  surgeTargets,
  type BenchRow,
  type SurgeRecord,
  type LoadRow,
  type OpenLoopRow,
} from '../../bench/lib/targets';

function load(overrides: Partial<LoadRow> & Pick<LoadRow, 'workload' | 'impl'>): LoadRow {
  return {
    concurrency: 50,
    requests: 1000,
    tokens: 1000,
    non2xx: 0,
    errors: 0,
    seconds: 10,
    tokensPerSec: 100,
    p50Ms: 22,
    p99Ms: 24,
    overheadP99Ms: 4,
    acsCalls: 1000,
    acsCallsPerToken: 1,
    tableOps: 0,
    tableOpsPerToken: 0,
    rssStartMb: 80,
    rssEndMb: 90,
    ...overrides,
  };
}

function open(
  overrides: Partial<OpenLoopRow> & Pick<OpenLoopRow, 'workload' | 'impl' | 'cache'>,
): OpenLoopRow {
  return {
    mode: 'open-loop',
    arrivalPerSec: 40,
    requests: 2400,
    tokens: 2400,
    non2xx: 0,
    errors: 0,
    p50Ms: 105,
    p90Ms: 110,
    p99Ms: 130,
    hostCpuMsPerToken: 1,
    acsCalls: 2400,
    acsCallsPerToken: 1,
    tableOps: 0,
    tableOpsPerToken: 0,
    seconds: 60,
    acsLatencyMs: 100,
    tableLatencyMs: 8,
    maxSendLagMs: 2,
    ...overrides,
  };
}

/** The open-loop rows of a run that meets every target. */
function openRows(): OpenLoopRow[] {
  const baseline = {
    p50Ms: 210,
    p99Ms: 260,
    hostCpuMsPerToken: 2,
    acsCalls: 4800,
    acsCallsPerToken: 2,
  };
  return [
    open({ workload: 'new-caller', impl: 'ours', cache: null, p50Ms: 105 }),
    open({ workload: 'new-caller', impl: 'baseline', cache: null, ...baseline }),
    open({
      workload: 'returning',
      impl: 'ours',
      cache: 'off',
      tableOps: 2400,
      tableOpsPerToken: 1,
    }),
    open({
      workload: 'returning',
      impl: 'ours',
      cache: 'on',
      p50Ms: 4,
      p99Ms: 20,
      hostCpuMsPerToken: 0.5,
      acsCalls: 0,
      acsCallsPerToken: 0,
      tableOps: 480,
      tableOpsPerToken: 0.2,
    }),
    open({
      workload: 'empty',
      impl: 'floor',
      cache: null,
      p50Ms: 2,
      hostCpuMsPerToken: 0.3,
      acsCalls: 0,
      acsCallsPerToken: 0,
    }),
    open({ workload: 'returning', impl: 'baseline', cache: null, ...baseline }),
    open({
      workload: 'new-caller',
      impl: 'pool',
      cache: null,
      p50Ms: 20,
      acsCalls: 0,
      acsCallsPerToken: 0,
      tableOps: 2475,
      tableOpsPerToken: 1.03,
    }),
  ];
}

const openRow = (rows: BenchRow[], match: Partial<OpenLoopRow>) =>
  rows.find(
    (r): r is OpenLoopRow =>
      'mode' in r &&
      Object.entries(match).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v),
  )!;

/** A run that meets every target. */
function passingRun(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const concurrency of [1, 10, 50]) {
    rows.push(
      load({ workload: 'new-caller', impl: 'ours', concurrency, tokensPerSec: 400 }),
      load({
        workload: 'new-caller',
        impl: 'baseline',
        concurrency,
        acsCalls: 2000,
        acsCallsPerToken: 2,
        tokensPerSec: 200,
      }),
    );
  }
  rows.push(
    load({ workload: 'returning', impl: 'ours', cache: 'off', tableOps: 1000 }),
    load({ workload: 'returning', impl: 'baseline', acsCalls: 2000, tokensPerSec: 100 }),
    load({
      workload: 'returning',
      impl: 'ours',
      cache: 'on',
      acsCalls: 0,
      acsCallsPerToken: 0,
      tokensPerSec: 1000,
    }),
    load({
      workload: 'soak',
      impl: 'ours',
      cache: 'on',
      acsCalls: 0,
      rssStartMb: 100,
      rssEndMb: 110,
      rssSlopeMbPer10k: 0.2,
    }),
    { workload: 'cold-start', impl: 'bundled', entry: 'dist/app/index.js', firstTokenMs: 300 },
    {
      workload: 'cold-start',
      impl: 'empty-v4',
      entry: 'dist/bench/emptyApp.js',
      firstTokenMs: 250,
    },
    { workload: 'import-time', impl: 'bundled', entry: 'dist/app/index.js', importMs: 60 },
    ...openRows(),
  );
  return rows;
}

const statusOf = (rows: BenchRow[], prefix: string) =>
  checkTargets(rows).find((t) => t.name.startsWith(prefix));

describe('checkTargets', () => {
  it('passes every target of a run that meets them', () => {
    const results = checkTargets(passingRun());
    expect(results.map((t) => t.status)).toEqual(new Array(results.length).fill('PASS'));
    expect(results).toHaveLength(15);
  });

  it('fails the 1-call rule on a single extra ACS call and names the counts', () => {
    const rows = passingRun();
    (rows[2] as LoadRow).acsCalls = 1001;
    expect(statusOf(rows, 'new caller: ours makes exactly 1')).toEqual({
      status: 'FAIL',
      name: 'new caller: ours makes exactly 1 ACS call per token (baseline 2)',
      detail:
        'c=1: ours 1000/1000, baseline 2000/1000; c=10: ours 1001/1000, baseline 2000/1000; c=50: ours 1000/1000, baseline 2000/1000',
    });
  });

  it('holds the new caller to 0.6× the baseline p50, failing just above', () => {
    const rows = passingRun();
    openRow(rows, { workload: 'new-caller', impl: 'ours' }).p50Ms = 126;
    expect(statusOf(rows, 'open loop, new caller')).toEqual({
      status: 'PASS',
      name: 'open loop, new caller: ours p50 ≤ 0.6× baseline p50',
      detail: '126.0 vs 210.0 ms: 0.60× (limit 0.6×)',
    });
    openRow(rows, { workload: 'new-caller', impl: 'ours' }).p50Ms = 126.1;
    expect(statusOf(rows, 'open loop, new caller')).toMatchObject({
      status: 'FAIL',
      detail: '126.1 vs 210.0 ms: 0.60× (limit 0.6×)',
    });
  });

  it('compares the cached p50 and p99 with the returning baseline, not the new-caller one', () => {
    const rows = passingRun();
    openRow(rows, { workload: 'returning', impl: 'baseline' }).p99Ms = 90;
    expect(statusOf(rows, 'open loop, returning callers, cache on: ours p99')).toMatchObject({
      status: 'FAIL',
      detail: '20.0 vs 90.0 ms: 0.22× (limit 0.2×)',
    });
    expect(statusOf(rows, 'open loop, returning callers, cache on: ours p50')?.status).toBe('PASS');
    openRow(rows, { workload: 'returning', impl: 'baseline' }).p50Ms = 39;
    expect(statusOf(rows, 'open loop, returning callers, cache on: ours p50')?.status).toBe('FAIL');
  });

  it('fails cache-on table operations above 0.3 per token', () => {
    const rows = passingRun();
    Object.assign(openRow(rows, { workload: 'returning', cache: 'on' }), {
      tableOps: 721,
      tableOpsPerToken: 0.3004,
    });
    expect(statusOf(rows, 'open loop, returning callers, cache on: ≤ 0.3')).toMatchObject({
      status: 'FAIL',
      detail: '0.300 per token (721 for 2400; limit 0.3)',
    });
  });

  it('holds cached host CPU per token to the floor; new-caller CPU is no longer a target', () => {
    const rows = passingRun();
    openRow(rows, { workload: 'returning', cache: 'on' }).hostCpuMsPerToken = 0.61;
    expect(statusOf(rows, 'host CPU per token, cached')).toMatchObject({
      status: 'FAIL',
      detail: '0.610 vs 0.300 ms CPU per token: 2.03× (limit 2×)',
    });
    openRow(rows, { workload: 'new-caller', impl: 'ours' }).hostCpuMsPerToken = 5;
    expect(statusOf(rows, 'host CPU per token, new caller')).toBeUndefined();
  });

  it('holds a new caller from a warm pool to no ACS call and 0.3× today’s new-caller p50', () => {
    const rows = passingRun();
    const pool = openRow(rows, { workload: 'new-caller', impl: 'pool' });
    pool.p50Ms = 31.5;
    expect(statusOf(rows, 'open loop, new caller from a warm pool: p50')).toMatchObject({
      status: 'PASS',
      detail: '31.5 vs 105.0 ms: 0.30× (limit 0.3×)',
    });
    pool.p50Ms = 31.6;
    expect(statusOf(rows, 'open loop, new caller from a warm pool: p50')?.status).toBe('FAIL');
    pool.acsCalls = 1;
    expect(statusOf(rows, 'open loop, new caller from a warm pool: 0 ACS')).toMatchObject({
      status: 'FAIL',
      detail: '1 ACS calls for 2400 tokens',
    });
  });

  it('holds cold start to 1.5× an empty v4 app on the same host, not to an absolute figure', () => {
    const rows = passingRun();
    const cold = rows.find((r) => r.workload === 'cold-start' && r.impl === 'bundled')!;
    Object.assign(cold, { firstTokenMs: 375 });
    expect(statusOf(rows, 'cold start of the bundled app')).toMatchObject({
      status: 'PASS',
      detail: '375 vs 250 ms: 1.50× (limit 1.5×)',
    });
    Object.assign(cold, { firstTokenMs: 376 });
    expect(statusOf(rows, 'cold start of the bundled app')?.status).toBe('FAIL');
  });

  it('names the open-loop rows that are missing', () => {
    const rows = passingRun().filter((r) => !('mode' in r && r.impl === 'floor'));
    expect(statusOf(rows, 'host CPU per token, cached')).toMatchObject({
      status: 'MISSING',
      detail: 'empty/floor not measured',
    });
  });

  it('fails the open-loop call counts on one extra ACS call, and counts failed requests', () => {
    const rows = passingRun();
    openRow(rows, { workload: 'returning', cache: 'off' }).acsCalls = 2401;
    expect(statusOf(rows, 'open loop: exactly 1 ACS call')?.status).toBe('FAIL');
    openRow(rows, { workload: 'empty' }).errors = 1;
    expect(statusOf(rows, 'every measured request')).toMatchObject({
      status: 'FAIL',
      detail: 'open loop empty/floor: 0 non-2xx, 1 errors',
    });
  });

  it('fails the cached target when a cached run still calls ACS', () => {
    const rows = passingRun();
    Object.assign(rows[8] as LoadRow, { acsCalls: 1000, acsCallsPerToken: 1 });
    expect(statusOf(rows, 'returning callers, cache on: ≈0')).toMatchObject({
      status: 'FAIL',
      detail: '1000 ACS calls for 1000 tokens (1.000 per token)',
    });
  });

  it('reports a missing bundle as MISSING, not as a pass', () => {
    const rows: BenchRow[] = passingRun().filter(
      (r) => r.workload !== 'cold-start' && r.workload !== 'import-time',
    );
    rows.push(
      { workload: 'cold-start', impl: 'bundled', entry: 'dist/app/index.js', missing: true },
      { workload: 'import-time', impl: 'bundled', entry: 'dist/app/index.js', missing: true },
    );
    expect(statusOf(rows, 'cold start of the bundled app')).toEqual({
      status: 'MISSING',
      name: "cold start of the bundled app ≤ 1.5× an empty v4 app's, same host, same run",
      detail: 'dist/app/index.js does not exist (bundle not built yet)',
    });
    expect(statusOf(rows, 'importing the bundled')?.status).toBe('MISSING');
  });

  it('fails the soak on an upward RSS trend even when RSS ends under the limit', () => {
    const rows = passingRun();
    (rows[9] as LoadRow).rssSlopeMbPer10k = 1.5;
    expect(statusOf(rows, 'soak')).toMatchObject({
      status: 'FAIL',
      detail: 'RSS 100.0 → 110.0 MB over 1000 requests, slope 1.50 MB/10k',
    });
  });

  it('counts failed requests, but lets the soak stop at its time cap', () => {
    const rows = passingRun();
    Object.assign(rows[9] as LoadRow, { truncated: true });
    expect(statusOf(rows, 'every measured request')?.status).toBe('PASS');
    Object.assign(rows[6] as LoadRow, { non2xx: 3 });
    expect(statusOf(rows, 'every measured request')).toMatchObject({
      status: 'FAIL',
      detail: 'returning/ours/cache off/c=50: 3 non-2xx, 0 errors',
    });
  });

  it('marks every target MISSING when nothing was measured', () => {
    expect(checkTargets([]).map((t) => t.status)).toEqual(new Array(15).fill('MISSING'));
  });
});

describe('surgeTargets', () => {
  const row = (impl: SurgeRecord['impl'], extra: Partial<SurgeRecord> = {}): SurgeRecord => ({
    impl,
    instances: 3,
    newUsers: 10_000,
    returningUsers: 0,
    served: 10_000,
    served429: 0,
    errors5xx: 0,
    acs429Received: 0,
    acsCalls: 0,
    orphanIdentities: 0,
    duplicateIdentities: 0,
    p50Ms: 10,
    p99Ms: 100,
    ...extra,
  });
  const crowd = () => [
    row('ours', { newUsers: 3000, returningUsers: 10_000, served: 12_975 }),
    row('baseline', { newUsers: 3000, returningUsers: 10_000, served: 3000 }),
    row('baseline-crowd', { served: 3000, newServed: 3000, acsCallsDuringCrowd: 14_000 }),
    row('pool', {
      returningUsers: 1000,
      served: 11_000,
      newServed: 10_000,
      acsCallsDuringCrowd: 500,
      newP50Ms: 8,
      newP99Ms: 200,
      cachedP50Ms: 4,
    }),
  ];
  const facts = { oursReturningServed: 10_000, oursRefusedShareAfterFirst429: 0.01 };
  const status = (records: SurgeRecord[], prefix: string) =>
    surgeTargets(records, facts).find((t) => t.name.startsWith(prefix))?.status;

  it('passes all ten targets of a run that meets them', () => {
    expect(surgeTargets(crowd(), facts).map((t) => t.status)).toEqual(new Array(10).fill('PASS'));
  });

  it('fails each crowd target just past its limit', () => {
    const at = (extra: Partial<SurgeRecord>) =>
      crowd().map((r) => (r.impl === 'pool' ? { ...r, ...extra } : r));
    expect(status(at({ duplicateIdentities: 1 }), 'pool: 0 x 5xx')).toBe('FAIL');
    expect(status(at({ served429: 100 }), 'pool: at most 1%')).toBe('PASS');
    expect(status(at({ served429: 101 }), 'pool: at most 1%')).toBe('FAIL');
    expect(status(at({ newP50Ms: 8.1 }), 'pool: new-user p50')).toBe('FAIL');
    expect(status(at({ newP99Ms: 250.1 }), 'pool: new-user p50')).toBe('FAIL');
    expect(status(at({ acsCallsDuringCrowd: 1001 }), 'pool: ACS calls')).toBe('FAIL');
    expect(status(at({ newServed: 8999 }), 'pool: >= 3x')).toBe('FAIL');
  });

  it('marks the crowd MISSING when it was not run', () => {
    const records = crowd().filter((r) => r.impl === 'ours' || r.impl === 'baseline');
    expect(surgeTargets(records, facts).filter((t) => t.status === 'MISSING')).toHaveLength(5);
  });
});
