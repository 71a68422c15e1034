/**
 * Preloaded (`--require`) into a host process when BENCH_MEMORY_LOG names a file: once a second
 * it appends one JSON line of process.memoryUsage() plus the old-space bytes that survived the
 * latest full (mark-compact) GC. What survives a full GC is the live set, so its trend shows a
 * leak; RSS follows V8's heap sizing, a sawtooth that can hide a leak or fake one.
 */
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.BENCH_MEMORY_LOG;
if (file) {
  const mb = (bytes: number) => Math.round(bytes / 1024 / 10.24) / 100;
  let liveAfterFullGcMb: number | undefined;
  let fullGcs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      fullGcs += 1;
      const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      liveAfterFullGcMb = mb(old?.space_used_size ?? 0);
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss: mb(m.rss),
      heapTotal: mb(m.heapTotal),
      heapUsed: mb(m.heapUsed),
      external: mb(m.external),
      arrayBuffers: mb(m.arrayBuffers),
      liveAfterFullGcMb,
      fullGcs,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1_000).unref();
}
