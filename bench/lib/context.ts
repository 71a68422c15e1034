/**
 * What every workload of `npm run bench` shares: the settings (BENCH_*), the services of one run,
 * the host processes it starts and the request shapes it sends. See bench/README.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningAzurite } from '../../dev/azurite';
import { spawnHost, type HostProcess } from '../../dev/host/spawnHost';
import { workerNodeOptions } from './deployment';
import type { RequestShape } from './load';
import type { EmulatorProcess, TableCounterProcess } from './services';
import type { BenchRow } from './targets';

export const projectRoot = path.resolve(__dirname, '..', '..', '..');
export const KEY = 'bench-function-key-0123456789';
export const BASELINE_ENTRY = 'dist/bench/baseline.js';
/** Bench-only functions in the same host process: the empty floor and the CPU admin route. */
const FLOOR_ENTRY = 'dist/bench/floorFunctions.js';
export const UNBUNDLED_ENTRY = 'dist/src/index.js';
export const BUNDLED_ENTRY = 'dist/app/index.js';
/** An empty v4 app on the same host: the cold-start baseline (bench/emptyApp.ts). */
export const EMPTY_APP_ENTRY = 'dist/bench/emptyApp.js';
export const NEW_CALLER_CONCURRENCY = [1, 10, 50];
export const RETURNING_CONCURRENCY = 50;
export const PRINCIPALS = 1000;
const ZIPF_S = 1.1;
const WORKLOADS = ['open-loop', 'new-caller', 'returning', 'cold-start', 'soak'] as const;
type Workload = (typeof WORKLOADS)[number];

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function workloadsToRun(): Set<Workload> {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return new Set(WORKLOADS);
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown ${unknown.join(', ')}`);
  return new Set(names as Workload[]);
}

export const settings = {
  acsLatencyMs: intSetting('BENCH_ACS_LATENCY_MS', 20, 0, 5_000),
  seconds: intSetting('BENCH_SECONDS', 4, 1, 600),
  returningRequests: intSetting('BENCH_RETURNING_REQUESTS', 2_000, 100, 1_000_000),
  soakRequests: intSetting('BENCH_SOAK_REQUESTS', 100_000, 1_000, 10_000_000),
  soakMaxSeconds: intSetting('BENCH_SOAK_MAX_SECONDS', 150, 10, 3_600),
  coldStartRuns: intSetting('BENCH_COLD_RUNS', 5, 1, 100),
  warmupRequests: intSetting('BENCH_WARMUP_REQUESTS', 1_000, 0, 1_000_000),
  seed: intSetting('BENCH_SEED', 20_250_101, 0, 2 ** 31),
  principals: PRINCIPALS,
  zipfS: ZIPF_S,
  /** NODE_OPTIONS of every host process: the deployment's, then BENCH_HOST_NODE_OPTIONS. */
  hostNodeOptions: [workerNodeOptions(), process.env.BENCH_HOST_NODE_OPTIONS?.trim() ?? '']
    .join(' ')
    .trim(),
  /** Open loop: arrivals per second, measured seconds per row, unrecorded seconds before. */
  openRatePerSec: intSetting('BENCH_OPEN_RATE', 40, 1, 1_000),
  openSeconds: intSetting('BENCH_OPEN_SECONDS', 60, 1, 3_600),
  openWarmupSeconds: intSetting('BENCH_OPEN_WARMUP_SECONDS', 3, 0, 600),
  /** Open loop: assumed upstream latencies, per operation (assumptions, not Azure's figures). */
  openAcsLatencyMs: intSetting('BENCH_OPEN_ACS_LATENCY_MS', 100, 0, 5_000),
  openTableLatencyMs: intSetting('BENCH_OPEN_TABLE_LATENCY_MS', 8, 0, 5_000),
  newCallerConcurrency: NEW_CALLER_CONCURRENCY,
  returningConcurrency: RETURNING_CONCURRENCY,
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything started here, stopped in reverse order whatever happens. */
export const cleanups: (() => Promise<void>)[] = [];
export async function cleanUp(): Promise<void> {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => undefined);
}

export interface Bench {
  emulator: EmulatorProcess;
  counter: TableCounterProcess;
  azurite: RunningAzurite;
  appEntry: string;
  rows: BenchRow[];
}

export function appEntry(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    main?: string;
  };
  if (!pkg.main || pkg.main.includes('*')) throw new Error('package.json main must be one file');
  return pkg.main;
}

export function hostEnv(bench: Bench, extra: Record<string, string>): Record<string, string> {
  const profileDir = process.env.BENCH_PROFILE_DIR?.trim();
  const memoryLog = process.env.BENCH_MEMORY_LOG?.trim();
  const nodeOptions = [
    profileDir ? `--require ${path.join(projectRoot, 'dist', 'bench', 'cpuProfile.js')}` : '',
    memoryLog ? `--require ${path.join(projectRoot, 'dist', 'bench', 'memoryWatch.js')}` : '',
    settings.hostNodeOptions,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    ACS_CONNECTION_STRING: bench.emulator.connectionString,
    FUNCTIONS_DEV_KEY: KEY,
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_KEY_PER_MINUTE: '0',
    LOG_LEVEL: 'warning',
    LOCAL_HOST_ENTRIES: `${bench.appEntry},${BASELINE_ENTRY},${FLOOR_ENTRY}`,
    BENCH_ADMIN: '1',
    ...(profileDir ? { BENCH_PROFILE_DIR: path.resolve(profileDir) } : {}),
    ...(memoryLog ? { BENCH_MEMORY_LOG: path.resolve(memoryLog) } : {}),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...extra,
  };
}

export async function startHost(bench: Bench, extra: Record<string, string>): Promise<HostProcess> {
  const host = await spawnHost(hostEnv(bench, extra));
  cleanups.push(() => host.stop());
  return host;
}

export const json = { 'content-type': 'application/json' };
export const oursByKey: RequestShape = {
  method: 'POST',
  path: '/api/token',
  headers: { ...json, 'x-functions-key': KEY },
  body: '{}',
};
export const baselineByKey: RequestShape = {
  method: 'POST',
  path: '/api/baseline/token',
  headers: { ...json, 'x-functions-key': KEY },
  body: '{}',
};
