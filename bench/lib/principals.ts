/** Signed-in principals for the returning-caller workloads: sign-in, first requests, the mix. */
import os from 'node:os';
import { rssMb, type HostProcess } from '../../dev/host/spawnHost';
import { json, KEY, PRINCIPALS, RETURNING_CONCURRENCY, settings, type Bench } from './context';
import { eachLimited, send } from './http';
import type { RequestShape } from './load';
import { cpuSince, cpuSnapshot } from './measure';
import { percentile, round, zipfSampler } from './stats';

/** Signs in every principal with the local Easy Auth stand-in; returns their session cookies. */
export async function signIn(host: HostProcess, prefix: string): Promise<string[]> {
  const cookies: string[] = new Array<string>(PRINCIPALS);
  await eachLimited(
    Array.from({ length: PRINCIPALS }, (_, i) => i),
    16,
    async (i) => {
      const user = `${prefix}-${String(i).padStart(4, '0')}`;
      const answer = await send(`${host.url}/.auth/login/dev?user=${user}&roles=member`);
      const setCookie = answer.headers['set-cookie']?.[0];
      if (answer.status !== 200 || !setCookie)
        throw new Error(`sign-in of ${user}: ${answer.status}`);
      cookies[i] = setCookie.split(';')[0] ?? '';
    },
  );
  return cookies;
}

/** Each principal's first request, once, in order; recorded as its own row unless `record` is false. */
export async function warmPrincipals(
  bench: Bench,
  host: HostProcess,
  cookies: string[],
  cache: 'off' | 'on',
  record = true,
): Promise<void> {
  const acsBefore = await bench.emulator.totalCalls();
  const tableBefore = await bench.counter.count();
  const rssStartMb = rssMb(host.pid);
  const cpuBefore = cpuSnapshot(bench, host);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  await eachLimited(cookies, RETURNING_CONCURRENCY, async (cookie) => {
    const t = performance.now();
    const answer = await send(`${host.url}/api/token`, {
      method: 'POST',
      headers: { ...json, cookie },
      body: '{}',
    });
    if (answer.status === 200) latencies.push(performance.now() - t);
    else failures += 1;
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const acsCalls = (await bench.emulator.totalCalls()) - acsBefore;
  const tableOps = (await bench.counter.count()) - tableBefore;
  const tokens = latencies.length;
  const p99Ms = percentile(latencies, 99);
  if (!record) return;
  bench.rows.push({
    workload: 'returning-warmup',
    impl: 'ours',
    cache,
    concurrency: RETURNING_CONCURRENCY,
    requests: cookies.length,
    tokens,
    non2xx: failures,
    errors: 0,
    seconds: round(seconds, 2),
    tokensPerSec: round(tokens / seconds),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(p99Ms, 2),
    overheadP99Ms: round(p99Ms - settings.acsLatencyMs * (acsCalls / tokens), 2),
    acsCalls,
    acsCallsPerToken: round(acsCalls / tokens, 4),
    tableOps,
    tableOpsPerToken: round(tableOps / tokens, 4),
    rssStartMb,
    rssEndMb: rssMb(host.pid),
    ...cpuSince(cpuBefore, cpuSnapshot(bench, host), tokens, seconds),
    loadAverage1m: round(os.loadavg()[0] ?? NaN, 2),
  });
  console.log(
    `  warm-up cache ${cache}: ${tokens} principals, ${acsCalls} ACS calls, ${tableOps} table ops`,
  );
}

/** Page reloads of 1,000 signed-in principals: a seeded Zipf(s≈1.1) pick per request. */
export function returningShape(cookies: string[], seed: number, withKey: boolean): RequestShape {
  const pick = zipfSampler(cookies.length, settings.zipfS, seed);
  return {
    method: 'POST',
    path: withKey ? '/api/baseline/token' : '/api/token',
    headers: withKey ? { ...json, 'x-functions-key': KEY } : json,
    body: '{}',
    perRequest: () => ({ cookie: cookies[pick()] ?? '' }),
  };
}

/** The host settings of the returning-caller rows: Easy Auth, the map behind the table counter. */
export function easyAuthEnv(bench: Bench): Record<string, string> {
  return { AUTH_MODE: 'easyauth', IDENTITY_MAP_CONNECTION: bench.counter.connectionString };
}
