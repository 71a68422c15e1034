/**
 * `npm run bench`: measures the token service against the seed design (bench/baseline.ts) in the
 * same run, on loopback, and checks the performance targets as ratios. Each workload lives in
 * bench/workloads/; what they share is in bench/lib/. See bench/README.md for the workloads, the
 * definitions and the settings (BENCH_*).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { startAzurite } from '../dev/azurite';
import {
  appEntry,
  cleanUp,
  cleanups,
  projectRoot,
  settings,
  workloadsToRun,
  type Bench,
} from './lib/context';
import { renderReport } from './lib/report';
import { startEmulatorProcess, startTableCounter } from './lib/services';
import { round } from './lib/stats';
import { checkTargets } from './lib/targets';
import { coldStartWorkload } from './workloads/coldStart';
import { newCallerWorkload } from './workloads/newCaller';
import { openLoopWorkload } from './workloads/openLoop';
import { returningWorkload } from './workloads/returning';

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

  if (run.has('open-loop')) await openLoopWorkload(bench);
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
