/**
 * `npm run load`: a bounded load run against the local host on loopback. Mixed valid and invalid
 * traffic (new identities, address-bar GETs, bad bodies, missing keys, wrong methods, health
 * probes) from 100 connections for 60 s, with the emulator answering after 20 ms like a nearby ACS.
 * Prints requests/s, latency percentiles, status counts and the host's memory; exits 1 on any 5xx.
 *
 * LOAD_DURATION_SECONDS, LOAD_CONNECTIONS and LOAD_ACS_LATENCY_MS change the shape.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { startEmulatorProcess } from './lib/services';
import { rssMb, spawnHost } from '../dev/host/spawnHost';
import { workerNodeOptions } from './lib/deployment';

const KEY = 'load-test-key-0123456789';

function setting(name: string, fallback: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new Error(`${name} must be 1..${max}`);
  return value;
}

async function main(): Promise<void> {
  const duration = setting('LOAD_DURATION_SECONDS', 60, 600);
  const connections = setting('LOAD_CONNECTIONS', 100, 1000);
  const latencyMs = setting('LOAD_ACS_LATENCY_MS', 20, 10_000);

  // The emulator signs RS256 tokens: in its own process it does not slow the load generator.
  const emulator = await startEmulatorProcess(path.resolve(__dirname, '..', '..'), latencyMs);
  const host = await spawnHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    FUNCTIONS_DEV_KEY: KEY,
    // One key drives all the traffic here; its rate limit would turn the run into a 429 test.
    RATE_LIMIT_KEY_PER_MINUTE: '0',
    LOG_LEVEL: 'warning',
    // The heap limit the deployment gives the worker (infra/), so RSS is what Azure would see.
    NODE_OPTIONS: workerNodeOptions(),
  });
  const json = { 'content-type': 'application/json' };
  const withKey = { ...json, 'x-functions-key': KEY };
  const rssStart = rssMb(host.pid);
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(host.pid))), 1_000);

  console.log(
    `load: ${connections} connections for ${duration} s against ${host.url}, ACS latency ${latencyMs} ms`,
  );
  const result = await autocannon({
    url: host.url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/api/token',
        headers: withKey,
        body: '{"scopes":["voip"],"expiresInMinutes":60}',
      },
      { method: 'POST', path: '/api/token', headers: withKey, body: '{"scopes":["bogus"]}' },
      { method: 'GET', path: '/api/token?scopes=chat,voip', headers: withKey },
      { method: 'POST', path: '/api/token', headers: json, body: '{}' },
      { method: 'PUT', path: '/api/token', headers: withKey, body: '{}' },
      { method: 'POST', path: '/api/token', headers: withKey, body: '{"scopes":' },
      { method: 'GET', path: '/api/health' },
    ],
  });
  clearInterval(sampler);
  const rssEnd = rssMb(host.pid);
  await host.stop();
  const acsCalls = await emulator.counts();
  await emulator.stop();

  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [
      code,
      (stats as { count: number }).count,
    ]),
  );
  const serverErrors = Object.entries(statusCounts)
    .filter(([code]) => Number(code) >= 500)
    .reduce((sum, [, count]) => sum + count, 0);
  const report = {
    durationSeconds: duration,
    connections,
    acsLatencyMs: latencyMs,
    requests: result.requests.total,
    requestsPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statusCounts,
    serverErrors,
    transportErrors: result.errors,
    timeouts: result.timeouts,
    acsCalls,
    rssStartMb: rssStart,
    rssPeakMb: rssPeak,
    rssEndMb: rssEnd,
  };
  const out = path.resolve(__dirname, '..', '..', 'bench', 'results', 'load-latest.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  console.log(
    [
      '',
      '| metric | value |',
      '|---|---|',
      `| requests | ${report.requests} in ${duration} s |`,
      `| requests/s | ${report.requestsPerSec} |`,
      `| latency p50 / p99 | ${report.p50Ms} ms / ${report.p99Ms} ms |`,
      `| statuses | ${Object.entries(statusCounts)
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')} |`,
      `| 5xx | ${serverErrors} |`,
      `| transport errors / timeouts | ${report.transportErrors} / ${report.timeouts} |`,
      `| host RSS start / peak / end | ${rssStart} / ${rssPeak} / ${rssEnd} MB |`,
      '',
      `written to ${path.relative(process.cwd(), out)}`,
    ].join('\n'),
  );
  if (serverErrors > 0 || report.transportErrors > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
