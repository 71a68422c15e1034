/** Cold start (spawn → first token) and import time of the bundled and unbundled app. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/azurite';
import { spawnHost } from '../../dev/host/spawnHost';
import {
  BUNDLED_ENTRY,
  cleanups,
  EMPTY_APP_ENTRY,
  hostEnv,
  oursByKey,
  projectRoot,
  settings,
  sleep,
  UNBUNDLED_ENTRY,
  type Bench,
} from '../lib/context';
import { send } from '../lib/http';
import { median, round } from '../lib/stats';
import type { ColdStartRow, ImportTimeRow } from '../lib/targets';

const execFileAsync = promisify(execFile);

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

export async function coldStartWorkload(bench: Bench): Promise<void> {
  console.log(`cold start and import time (${settings.coldStartRuns} fresh processes each)`);
  const entries = [
    { impl: 'unbundled' as const, entry: UNBUNDLED_ENTRY },
    { impl: 'bundled' as const, entry: BUNDLED_ENTRY },
    // The baseline of the cold-start target: an empty v4 app, same host, same probe.
    { impl: 'empty-v4' as const, entry: EMPTY_APP_ENTRY },
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
      if (e.impl !== 'empty-v4') {
        imports.get(e.impl)?.push(round(await importTimeOnce(bench, e.entry)));
      }
    }
  }
  for (const e of entries) {
    if (!e.present) {
      console.log(`  ${e.impl}: ${e.entry} does not exist; row reported as missing`);
      bench.rows.push({ workload: 'cold-start', impl: e.impl, entry: e.entry, missing: true });
      if (e.impl !== 'empty-v4') {
        bench.rows.push({ workload: 'import-time', impl: e.impl, entry: e.entry, missing: true });
      }
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
    if (e.impl === 'empty-v4') {
      bench.rows.push(coldRow);
      console.log(
        `  ${e.impl}: first answer ${coldRow.firstTokenMs} ms (ready ${coldRow.readyMs} ms)`,
      );
      continue;
    }
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
