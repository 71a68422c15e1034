import {
  checkTargets,
  type BenchRow,
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
    expect(results).toHaveLength(14);
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

  it('holds host CPU per token to the floor and to the baseline', () => {
    const rows = passingRun();
    openRow(rows, { workload: 'returning', cache: 'on' }).hostCpuMsPerToken = 0.61;
    expect(statusOf(rows, 'host CPU per token, cached')).toMatchObject({
      status: 'FAIL',
      detail: '0.610 vs 0.300 ms CPU per token: 2.03× (limit 2×)',
    });
    openRow(rows, { workload: 'new-caller', impl: 'ours' }).hostCpuMsPerToken = 1.5;
    expect(statusOf(rows, 'host CPU per token, new caller')?.status).toBe('PASS');
    openRow(rows, { workload: 'new-caller', impl: 'ours' }).hostCpuMsPerToken = 1.51;
    expect(statusOf(rows, 'host CPU per token, new caller')?.status).toBe('FAIL');
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
      name: 'cold start of the bundled app ≤ 500 ms to the first token',
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
    expect(checkTargets([]).map((t) => t.status)).toEqual(new Array(14).fill('MISSING'));
  });
});
