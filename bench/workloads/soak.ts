/** The cache-on returning mix for BENCH_SOAK_REQUESTS requests, host RSS sampled every second. */
import { rssMb, type HostProcess } from '../../dev/host/spawnHost';
import { RETURNING_CONCURRENCY, settings, type Bench } from '../lib/context';
import { measure } from '../lib/measure';
import { returningShape } from '../lib/principals';
import { round, slope } from '../lib/stats';
import type { LoadRow } from '../lib/targets';

export async function soakRun(bench: Bench, host: HostProcess, cookies: string[]): Promise<void> {
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
