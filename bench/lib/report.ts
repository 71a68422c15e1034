import {
  isLoad,
  isOpenLoop,
  type BenchRow,
  type ColdStartRow,
  type ImportTimeRow,
  type LoadRow,
  type OpenLoopRow,
  type SurgeRecord,
  type TargetResult,
} from './targets';

const cell = (n: number | undefined, digits = 1) =>
  n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);

function loadTable(rows: LoadRow[]): string[] {
  return [
    '| workload | impl | cache | conc. | tokens | tokens/s | p50 ms | p99 ms | overhead p99 ms | ACS calls/token | table ops/token | CPU ms/token host, emulator, tables, load gen | cores busy | host RSS start → end MB |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.impl} | ${r.cache ?? '–'} | ${r.concurrency} | ${r.tokens}${r.non2xx + r.errors > 0 ? ` (+${r.non2xx + r.errors} failed)` : ''}${r.truncated ? ' (truncated)' : ''} | ${cell(r.tokensPerSec, 0)} | ${cell(r.p50Ms)} | ${cell(r.p99Ms)} | ${cell(r.overheadP99Ms)} | ${cell(r.acsCallsPerToken, 3)} | ${cell(r.tableOpsPerToken, 3)} | ${cell(r.hostCpuMsPerToken, 2)}, ${cell(r.emulatorCpuMsPerToken, 2)}, ${cell(r.tableCpuMsPerToken, 2)}, ${cell(r.loadGeneratorCpuMsPerToken, 2)} | ${r.coresBusyPct === undefined ? '–' : `${r.coresBusyPct}%`} | ${cell(r.rssStartMb)} → ${cell(r.rssEndMb)}${r.rssSlopeMbPer10k === undefined ? '' : ` (peak ${cell(r.rssPeakMb)}, slope ${cell(r.rssSlopeMbPer10k, 2)} MB/10k)`} |`,
    ),
  ];
}

function openLoopTable(rows: OpenLoopRow[]): string[] {
  return [
    '| open loop | impl | cache | arrivals/s | requests | p50 ms | p90 ms | p99 ms | host CPU ms/token | ACS calls/token | table ops/token | generator lag max ms |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.impl} | ${r.cache ?? '–'} | ${cell(r.arrivalPerSec, 0)} | ${r.requests}${r.non2xx + r.errors > 0 ? ` (${r.non2xx + r.errors} failed)` : ''} | ${cell(r.p50Ms)} | ${cell(r.p90Ms)} | ${cell(r.p99Ms)} | ${cell(r.hostCpuMsPerToken, 3)} | ${cell(r.acsCallsPerToken, 3)} | ${cell(r.tableOpsPerToken, 3)} | ${cell(r.maxSendLagMs)} |`,
    ),
  ];
}

function startTable(rows: (ColdStartRow | ImportTimeRow)[]): string[] {
  return [
    '| measurement | build | entry | median ms | detail |',
    '|---|---|---|--:|---|',
    ...rows.map((r) => {
      if (r.missing) return `| ${r.workload} | ${r.impl} | ${r.entry} | missing | not built yet |`;
      if (r.workload === 'cold-start') {
        return `| spawn → first token | ${r.impl} | ${r.entry} | ${cell(r.firstTokenMs, 0)} | host ready after ${cell(r.readyMs, 0)} ms; runs: ${(r.samplesMs ?? []).map((s) => s.toFixed(0)).join(', ')} |`;
      }
      return `| import entry module | ${r.impl} | ${r.entry} | ${cell(r.importMs, 0)} | runs: ${(r.samplesMs ?? []).map((s) => s.toFixed(0)).join(', ')} |`;
    }),
  ];
}

/** The markdown the bench prints (and bench/README.md quotes). */
export function renderReport(rows: BenchRow[], targets: TargetResult[], notes: string[]): string {
  const open = rows.filter(isOpenLoop);
  const load = rows.filter(isLoad);
  const starts = rows.filter(
    (r): r is ColdStartRow | ImportTimeRow =>
      !isOpenLoop(r) && (r.workload === 'cold-start' || r.workload === 'import-time'),
  );
  return [
    '',
    ...(open.length ? openLoopTable(open) : []),
    '',
    ...(load.length ? loadTable(load) : []),
    '',
    ...(starts.length ? startTable(starts) : []),
    '',
    ...notes.map((n) => `Note: ${n}`),
    ...(notes.length ? [''] : []),
    ...targets.map((t) => `${t.status.padEnd(7)} ${t.name}: ${t.detail}`),
    '',
  ].join('\n');
}

const SURGE_COLUMNS: (keyof SurgeRecord)[] = [
  'impl',
  'newUsers',
  'returningUsers',
  'served',
  'newServed',
  'served429',
  'errors5xx',
  'acsCalls',
  'acs429Received',
  'orphanIdentities',
  'duplicateIdentities',
  'p50Ms',
  'p99Ms',
  'newP50Ms',
  'newP99Ms',
  'cachedP50Ms',
  'loadAverage1m',
];

/** What `npm run surge` prints: one table of its rows, then its targets. */
export function renderSurgeReport(records: SurgeRecord[], targets: TargetResult[]): string {
  const value = (v: SurgeRecord[keyof SurgeRecord]) => (v === undefined ? '–' : String(v));
  return [
    '',
    `| ${SURGE_COLUMNS.join(' | ')} |`,
    `|${SURGE_COLUMNS.map((c) => (c === 'impl' ? '---' : '--:')).join('|')}|`,
    ...records.map((r) => `| ${SURGE_COLUMNS.map((c) => value(r[c])).join(' | ')} |`),
    '',
    ...targets.map((t) => `${t.status.padEnd(7)} ${t.name}: ${t.detail}`),
    '',
  ].join('\n');
}
