/**
 * `npm run surge`: a flash crowd over several instances sharing one ACS resource (the emulator,
 * with ACS's real Identity quotas) and one identity map (Azurite). The service ("ours") and the
 * seed design (bench/baseline.ts) face the same scenario in the same run; the results go to
 * bench/results/surge.json and the targets are printed PASS/FAIL. Loopback only, bounded in time.
 * docs/performance.md explains the scenario, the definitions and the settings (SURGE_*).
 */
import { TableClient } from '@azure/data-tables';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { startAzurite } from '../dev/azurite';
import { ACS_IDENTITY_LIMITS } from '../dev/emulator/quotas';
import { POOL_REFRESH_LEAD_MS } from '../src/domain/poolFiller';
import { spawnHost, type HostProcess } from '../dev/host/spawnHost';
import { workerNodeOptions } from './lib/deployment';
import { eachLimited, send, type Answer } from './lib/http';
import { startEmulatorProcess, type EmulatorProcess } from './lib/services';
import { renderSurgeReport } from './lib/report';
import { percentile, round, seededRandom } from './lib/stats';
import { surgeTargets, type SurgeRecord } from './lib/targets';

const projectRoot = path.resolve(__dirname, '..', '..');
const KEY = 'surge-function-key-0123456789';
const BASELINE_ENTRY = 'dist/bench/baseline.js';
const APP_ENTRY = 'dist/app/index.js';
const IDENTITY_TABLE = 'acsidentities';

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const settings = {
  instances: intSetting('SURGE_INSTANCES', 3, 1, 8),
  newUsers: intSetting('SURGE_NEW_USERS', 3000, 1, 100_000),
  returningUsers: intSetting('SURGE_RETURNING_USERS', 10_000, 0, 100_000),
  /** Every user's first request arrives within this many seconds, at a fixed rate. */
  arrivalSeconds: intSetting('SURGE_ARRIVAL_SECONDS', 75, 1, 600),
  /** The whole phase of one implementation, retries included; unfinished requests are cut off. */
  seconds: intSetting('SURGE_SECONDS', 90, 5, 900),
  acsLatencyMs: intSetting('SURGE_ACS_LATENCY_MS', 20, 0, 5_000),
  /** ACS's window; shorter only for quick runs while developing (then scale the limits too). */
  quotaWindowSeconds: intSetting('SURGE_QUOTA_WINDOW_SECONDS', 30, 1, 3600),
  /** Percent of ACS's real limits (100 = 1:1). */
  quotaPercent: intSetting('SURGE_QUOTA_PERCENT', 100, 1, 1000),
  /** The launch crowd (issue #22): new users only, against a filled pool and the seed design. */
  crowdUsers: intSetting('SURGE_CROWD_USERS', 10_000, 0, 100_000),
  crowdArrivalSeconds: intSetting('SURGE_CROWD_ARRIVAL_SECONDS', 60, 1, 600),
  crowdSeconds: intSetting('SURGE_CROWD_SECONDS', 90, 5, 900),
  /** Returning users mixed into the pooled crowd: their p50 is `cachedP50Ms`. */
  crowdReturning: intSetting('SURGE_CROWD_RETURNING', 1_000, 0, 100_000),
  poolSize: intSetting('SURGE_POOL_SIZE', 0, 0, 100_000),
  /** Percent of each ACS window the filler may spend while the pool is filled before the crowd. */
  poolFillPercent: intSetting('SURGE_POOL_FILL_PERCENT', 100, 1, 100),
  /** Percent the filler may spend during the crowd (the deployment's default POOL_QUOTA_SHARE). */
  poolPercent: intSetting('SURGE_POOL_PERCENT', 25, 1, 100),
  /** How long the fill may take before the run gives up. */
  poolFillMaxSeconds: intSetting('SURGE_POOL_FILL_MAX_SECONDS', 900, 10, 3600),
};
/** The pool holds one identity per crowd user unless SURGE_POOL_SIZE says otherwise. */
const poolSize = settings.poolSize || settings.crowdUsers;

interface AcsRecord {
  sentAt: number;
  status: number;
}

/** One host instance and the counting proxy between it and the shared emulator. */
interface Instance {
  index: number;
  host: HostProcess;
  acs: AcsRecord[];
}

const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => undefined);
}

const clientAgent = new http.Agent({ keepAlive: true, maxSockets: 512 });
const json = { 'content-type': 'application/json' };

/**
 * A pass-through to the emulator that records, for one instance, when each ACS call left and what
 * ACS answered: the emulator alone cannot tell the instances apart. The SDK signs the Host header
 * it sends here, and the proxy forwards it unchanged, so signatures still verify.
 */
async function startAcsProxy(target: URL, records: AcsRecord[]): Promise<string> {
  const upstream = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const sentAt = performance.now();
    const forward = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: upstream,
      },
      (answer) => {
        records.push({ sentAt, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      records.push({ sentAt, status: 0 });
      res.destroy();
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function emulatorAdmin(
  emulator: EmulatorProcess,
  pathname: string,
  method = 'GET',
  body?: unknown,
): Promise<unknown> {
  const answer = await send(`${emulator.url}${pathname}`, {
    method,
    headers: json,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    timeoutMs: 60_000,
  });
  if (answer.status >= 300) throw new Error(`emulator ${pathname}: ${answer.status}`);
  return answer.body ? (JSON.parse(answer.body) as unknown) : undefined;
}

interface QuotaStats {
  admitted: number;
  throttled: number;
}
async function quotaTotals(emulator: EmulatorProcess): Promise<{ calls: number; refused: number }> {
  const stats = (await emulatorAdmin(emulator, '/admin/stats')) as {
    quotas: Record<string, QuotaStats>;
  };
  let calls = 0;
  let refused = 0;
  for (const op of Object.values(stats.quotas)) {
    calls += op.admitted + op.throttled;
    refused += op.throttled;
  }
  return { calls, refused };
}

/** ACS's limits as configured for this run, with every window starting afresh. */
async function setQuotas(emulator: EmulatorProcess, enabled: boolean): Promise<void> {
  const limits = Object.fromEntries(
    Object.entries(ACS_IDENTITY_LIMITS).map(([op, n]) => [
      op,
      Math.max(1, Math.round((n * settings.quotaPercent) / 100)),
    ]),
  );
  await emulatorAdmin(emulator, '/admin/quotas', 'PUT', {
    enabled,
    windowSeconds: settings.quotaWindowSeconds,
    limits,
  });
}

async function signIn(instances: Instance[], users: string[]): Promise<Map<string, string>> {
  const cookies = new Map<string, string>();
  await eachLimited(users, 32, async (user, i) => {
    const host = instances[i % instances.length]!.host;
    // A pooled socket the host has just closed is not a failed sign-in: try again.
    let answer: Answer | undefined;
    for (let attempt = 0; !answer && attempt < 5; attempt++) {
      answer = await send(`${host.url}/.auth/login/dev?user=${user}&roles=member`, {
        agent: clientAgent,
      }).catch(() => undefined);
    }
    if (!answer) throw new Error(`sign-in of ${user}: no answer`);
    const cookie = answer.headers['set-cookie']?.[0]?.split(';')[0];
    if (answer.status !== 200 || !cookie) throw new Error(`sign-in of ${user}: ${answer.status}`);
    cookies.set(user, cookie);
  });
  return cookies;
}

interface Outcome {
  user: string;
  returning: boolean;
  served: boolean;
  identities: Set<string>;
}

interface PhaseResult {
  outcomes: Outcome[];
  statuses: Map<number, number>;
  /** Problem codes (ours) or statuses (baseline) of every answer that was not a token. */
  problems: Map<string, number>;
  latencies: number[];
  /** Latencies of served new and returning users apart, sorted. */
  newLatencies: number[];
  returningLatencies: number[];
  timeouts: number;
  startedAt: number;
  startedAtIso: string;
}

function retryAfterSeconds(answer: Answer): number | undefined {
  const raw: unknown = answer.headers['retry-after'];
  const value = typeof raw === 'string' ? raw : undefined;
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * One implementation's surge: every user's first request at a fixed arrival rate, spread over the
 * instances; a 429 or 503 with Retry-After is retried once after the advertised delay (as a client
 * refreshing through AzureCommunicationTokenCredential would), on the next instance, if that still
 * fits in the phase.
 */
/** `service`: POST /api/token as a signed-in user; `seed`: the seed design's endpoint. */
type Kind = 'service' | 'seed';

async function surge(
  kind: Kind,
  shape: { arrivalSeconds: number; seconds: number },
  instances: Instance[],
  newUsers: string[],
  returningUsers: string[],
  cookies: Map<string, string>,
  earlier: Map<string, string>,
): Promise<PhaseResult> {
  const random = seededRandom(20261202);
  const users = [
    ...newUsers.map((user) => ({ user, returning: false })),
    ...returningUsers.map((user) => ({ user, returning: true })),
  ];
  for (let i = users.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [users[i], users[j]] = [users[j]!, users[i]!];
  }
  const statuses = new Map<number, number>();
  const problems = new Map<string, number>();
  const latencies: number[] = [];
  const newLatencies: number[] = [];
  const returningLatencies: number[] = [];
  let timeouts = 0;
  const startedAtIso = new Date().toISOString();
  const startedAt = performance.now();
  const endsAt = startedAt + shape.seconds * 1000;
  const gapMs = (shape.arrivalSeconds * 1000) / users.length;

  const ask = async (
    user: string,
    returning: boolean,
    instance: Instance,
  ): Promise<Answer | undefined> => {
    const remaining = endsAt - performance.now();
    if (remaining <= 0) return undefined;
    const sent = performance.now();
    // The phase is bounded: an answer that comes after its end is not counted (a timeout).
    let cutoff: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      cutoff = setTimeout(() => reject(new Error('phase over')), remaining);
    });
    try {
      const request = (async () =>
        kind === 'service'
          ? send(`${instance.host.url}/api/token`, {
              method: 'POST',
              headers: { ...json, cookie: cookies.get(user) ?? '' },
              body: '{"scopes":["voip"]}',
              agent: clientAgent,
              timeoutMs: remaining,
            })
          : send(`${instance.host.url}/api/baseline/token`, {
              method: 'POST',
              headers: { ...json, 'x-functions-key': KEY },
              body: '{}',
              agent: clientAgent,
              timeoutMs: remaining,
            }))();
      // Still running after the cutoff; its late failure must not surface unhandled.
      request.catch(() => undefined);
      const answer = await Promise.race([late, request]);
      clearTimeout(cutoff);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 200) {
        const code = /"code":"([a-z_]+)"/.exec(answer.body)?.[1] ?? String(answer.status);
        problems.set(code, (problems.get(code) ?? 0) + 1);
      }
      if (answer.status === 200) {
        const ms = performance.now() - sent;
        latencies.push(ms);
        (returning ? returningLatencies : newLatencies).push(ms);
      }
      return answer;
    } catch {
      clearTimeout(cutoff);
      timeouts += 1;
      return undefined;
    }
  };

  const outcomes = await Promise.all(
    users.map(async ({ user, returning }, i): Promise<Outcome> => {
      const identities = new Set<string>();
      const previous = earlier.get(user);
      if (previous) identities.add(previous);
      await new Promise((resolve) => setTimeout(resolve, i * gapMs));
      let answer = await ask(user, returning, instances[i % instances.length]!);
      const wait = answer && answer.status !== 200 ? retryAfterSeconds(answer) : undefined;
      if (answer && wait !== undefined && [429, 503].includes(answer.status)) {
        if (performance.now() + wait * 1000 < endsAt) {
          await new Promise((resolve) => setTimeout(resolve, wait * 1000));
          answer = await ask(user, returning, instances[(i + 1) % instances.length]!);
        }
      }
      const served = answer?.status === 200;
      if (served && answer) {
        const body = JSON.parse(answer.body) as { user: { communicationUserId: string } };
        identities.add(body.user.communicationUserId);
      }
      return { user, returning, served, identities };
    }),
  );
  for (const list of [latencies, newLatencies, returningLatencies]) list.sort((a, b) => a - b);
  return {
    outcomes,
    statuses,
    problems,
    latencies,
    newLatencies,
    returningLatencies,
    timeouts,
    startedAt,
    startedAtIso,
  };
}

/** Waits until no instance has sent ACS anything for 2 s: requests cut off at the end may still run. */
async function settle(instances: Instance[]): Promise<void> {
  const giveUp = performance.now() + 60_000;
  let last = -1;
  let quietSince = performance.now();
  while (performance.now() < giveUp) {
    const now = instances.reduce((sum, i) => sum + i.acs.length, 0);
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= 2_000) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Per instance: of the ACS calls sent after its first 429 came back, the share ACS refused. */
function afterFirst429(instances: Instance[], since: number) {
  return instances.map((instance) => {
    const records = instance.acs.filter((r) => r.sentAt >= since);
    const first = records.find((r) => r.status === 429);
    const after = first ? records.filter((r) => r.sentAt > first.sentAt) : [];
    const refused = after.filter((r) => r.status === 429).length;
    return {
      instance: instance.index,
      acsCalls: records.length,
      acs429: records.filter((r) => r.status === 429).length,
      callsAfterFirst429: after.length,
      refusedAfterFirst429: refused,
    };
  });
}

async function mappedIdentities(tableConnection: string): Promise<Map<string, string>> {
  const table = TableClient.fromConnectionString(tableConnection, IDENTITY_TABLE, {
    allowInsecureConnection: true,
  });
  const byIdentity = new Map<string, string>();
  for await (const row of table.listEntities<{ communicationUserId?: string }>()) {
    if (row.communicationUserId) byIdentity.set(row.communicationUserId, row.rowKey ?? '');
  }
  return byIdentity;
}

async function emulatorIdentities(
  emulator: EmulatorProcess,
): Promise<{ id: string; createdAt: string; deleted: boolean }[]> {
  return (await emulatorAdmin(emulator, '/admin/identities')) as {
    id: string;
    createdAt: string;
    deleted: boolean;
  }[];
}

async function record(
  impl: SurgeRecord['impl'],
  phase: PhaseResult,
  instances: Instance[],
  emulator: EmulatorProcess,
  before: { calls: number; refused: number },
  handedOut: Set<string>,
  /** Identities made since then count for orphans (the pool's: since its fill began). */
  since = phase.startedAtIso,
): Promise<SurgeRecord> {
  const after = await quotaTotals(emulator);
  const created = (await emulatorIdentities(emulator)).filter(
    (i) => !i.deleted && i.createdAt >= since,
  );
  // An orphan is a live identity made during the phase that no caller can ever reach again.
  const orphanIdentities = created.filter((i) => !handedOut.has(i.id)).length;
  // A user with two identities, or an identity handed to two users (a pooled one claimed twice).
  const holders = new Map<string, number>();
  for (const o of phase.outcomes)
    for (const id of o.identities) holders.set(id, (holders.get(id) ?? 0) + 1);
  const duplicateIdentities =
    phase.outcomes.reduce((sum, o) => sum + Math.max(0, o.identities.size - 1), 0) +
    [...holders.values()].reduce((sum, n) => sum + n - 1, 0);
  const count = (predicate: (status: number) => boolean) =>
    [...phase.statuses].filter(([s]) => predicate(s)).reduce((sum, [, n]) => sum + n, 0);
  return {
    impl,
    instances: instances.length,
    newUsers: phase.outcomes.filter((o) => !o.returning).length,
    returningUsers: phase.outcomes.filter((o) => o.returning).length,
    served: phase.outcomes.filter((o) => o.served).length,
    served429: count((s) => s === 429),
    errors5xx: count((s) => s >= 500),
    acs429Received: after.refused - before.refused,
    acsCalls: after.calls - before.calls,
    orphanIdentities,
    duplicateIdentities,
    p50Ms: round(percentile(phase.latencies, 50), 1),
    p99Ms: round(percentile(phase.latencies, 99), 1),
  };
}

/** A revoke on one instance, then how long until every other instance stops serving the old token. */
async function revokeAcrossInstances(instances: Instance[], cookie: string) {
  const ask = (instance: Instance) =>
    send(`${instance.host.url}/api/token`, {
      method: 'POST',
      headers: { ...json, cookie },
      body: '{"scopes":["voip"]}',
      agent: clientAgent,
    });
  const before = JSON.parse((await ask(instances[0]!)).body) as { token: string };
  const revoke = await send(`${instances[1 % instances.length]!.host.url}/api/token/revoke`, {
    method: 'POST',
    headers: { cookie },
    agent: clientAgent,
  });
  const revokedAt = performance.now();
  const retiredAfterMs: number[] = [];
  for (const instance of instances) {
    for (;;) {
      const answer = await ask(instance);
      const token = answer.status === 200 ? (JSON.parse(answer.body) as { token: string }) : null;
      if (token && token.token !== before.token) break;
      if (performance.now() - revokedAt > 30_000) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    retiredAfterMs.push(round(performance.now() - revokedAt, 0));
  }
  return { revokeStatus: revoke.status, retiredAfterMs };
}

/** One principal's burst spread over every instance: does its rate limit hold per instance or overall? */
async function rateLimitAcrossInstances(instances: Instance[], cookie: string) {
  const requests = 200;
  let admitted = 0;
  let limited = 0;
  await eachLimited(
    Array.from({ length: requests }, (_, i) => i),
    8,
    async (i) => {
      const answer = await send(`${instances[i % instances.length]!.host.url}/api/token`, {
        method: 'POST',
        headers: { ...json, cookie },
        body: '{"scopes":["voip"]}',
        agent: clientAgent,
      });
      if (answer.status === 200) admitted += 1;
      else if (answer.status === 429) limited += 1;
    },
  );
  return { requests, admitted, limited };
}

/** Instances of one app over the shared emulator and Azurite, each behind its own counting proxy. */
async function startInstances(
  emulator: EmulatorProcess,
  azurite: { connectionString: string },
  cacheKey: string,
  extra: Record<string, string> = {},
): Promise<Instance[]> {
  const accessKey = /accesskey=([^;]+)/.exec(emulator.connectionString)?.[1] ?? '';
  const instances: Instance[] = [];
  for (let index = 0; index < settings.instances; index++) {
    const acs: AcsRecord[] = [];
    const endpoint = await startAcsProxy(new URL(emulator.url), acs);
    const host = await spawnHost({
      ACS_CONNECTION_STRING: `endpoint=${endpoint};accesskey=${accessKey}`,
      FUNCTIONS_DEV_KEY: KEY,
      AUTH_MODE: 'easyauth',
      IDENTITY_MAP_CONNECTION: azurite.connectionString,
      // The timer's singleton lock (one filler across the instances), as AzureWebJobsStorage.
      AzureWebJobsStorage: azurite.connectionString,
      TOKEN_CACHE_KEY: cacheKey,
      LOG_LEVEL: 'error',
      LOCAL_HOST_ENTRIES: `${APP_ENTRY},${BASELINE_ENTRY}`,
      NODE_OPTIONS: workerNodeOptions(),
      ...extra,
    });
    const stop = () => host.stop();
    cleanups.push(stop);
    instances.push({ index, host, acs });
  }
  return instances;
}

async function stopInstances(instances: Instance[]): Promise<void> {
  await Promise.all(instances.map((i) => i.host.stop()));
}

interface PoolHealth {
  status: string;
  size?: number;
  target?: number;
}

/** Polls /api/health until the pool reports `size` ready identities; returns the seconds it took. */
async function waitForPool(instance: Instance, size: number, startedAt: number): Promise<number> {
  const giveUpAt = startedAt + settings.poolFillMaxSeconds * 1000;
  let last: PoolHealth | undefined;
  let printed = 0;
  for (;;) {
    const answer = await send(`${instance.host.url}/api/health`, { timeoutMs: 30_000 }).catch(
      () => undefined,
    );
    last = answer ? (JSON.parse(answer.body) as { pool?: PoolHealth }).pool : last;
    if (last?.size !== undefined && last.size >= size) {
      return round((performance.now() - startedAt) / 1000, 1);
    }
    if (performance.now() > giveUpAt) {
      throw new Error(
        `the pool did not fill in ${settings.poolFillMaxSeconds} s: ${JSON.stringify(last)}`,
      );
    }
    if (performance.now() - printed > 30_000) {
      printed = performance.now();
      console.log(`    pool: ${last?.size ?? 0} of ${size}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * What the pool's steady state costs at a share of the windows: each slot's token is re-issued
 * before it stops serving (at most max(15 min, half its lifetime) left, less the filler's 5-minute
 * lead), so once every (lifetime − that) minutes.
 */
function steadyStateCost(size: number, sharePercent: number, lifetimeMinutes = 60) {
  const reissueEveryMinutes =
    lifetimeMinutes - Math.max(15, lifetimeMinutes / 2) - POOL_REFRESH_LEAD_MS / 60_000;
  const tokensPerHour = round((size * 60) / reissueEveryMinutes, 0);
  const issuesPerHourAllowed = ((ACS_IDENTITY_LIMITS.issueAccessToken * sharePercent) / 100) * 120;
  return {
    reissueEveryMinutes,
    tokensPerSlotPerHour: round(60 / reissueEveryMinutes, 2),
    tokensPerHour,
    shareOfIssueQuota: round(tokensPerHour / (ACS_IDENTITY_LIMITS.issueAccessToken * 120), 3),
    withinShare: tokensPerHour <= issuesPerHourAllowed,
  };
}

async function main(): Promise<void> {
  const loadStart = os.loadavg();
  console.log(
    `surge: ${settings.instances} instances, ${settings.newUsers} new + ${settings.returningUsers} returning users arriving over ${settings.arrivalSeconds} s, ${settings.seconds} s per implementation; crowd ${settings.crowdUsers} new users over ${settings.crowdArrivalSeconds} s (${settings.crowdSeconds} s), pool ${poolSize} filled at ${settings.poolFillPercent}% then ${settings.poolPercent}% of each window; ACS quotas ${settings.quotaPercent}% per ${settings.quotaWindowSeconds} s, ACS latency ${settings.acsLatencyMs} ms; ${os.cpus().length} CPUs, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const emulator = await startEmulatorProcess(projectRoot, settings.acsLatencyMs, 'on');
  cleanups.push(() => emulator.stop());
  const azuriteDir = mkdtempSync(path.join(os.tmpdir(), 'surge-azurite-'));
  cleanups.push(() => Promise.resolve(rmSync(azuriteDir, { recursive: true, force: true })));
  const azurite = await startAzurite({ projectRoot, location: azuriteDir });
  cleanups.push(() => azurite.stop());
  const cacheKey = randomBytes(32).toString('base64');

  let instances = await startInstances(emulator, azurite, cacheKey);

  const tag = Date.now().toString(36);
  const newUsers = Array.from({ length: settings.newUsers }, (_, i) => `new-${tag}-${i}`);
  const returning = Array.from({ length: settings.returningUsers }, (_, i) => `ret-${tag}-${i}`);
  const crowd = Array.from({ length: settings.crowdUsers }, (_, i) => `crowd-${tag}-${i}`);
  const probeUser = `probe-${tag}`;
  const cookies = await signIn(instances, [...newUsers, ...returning, ...crowd, probeUser]);

  // Returning users signed in and got a token before the surge (yesterday, as far as ACS's
  // windows are concerned): quotas are off while they do, then on, with every window fresh.
  console.log(`  before the surge: ${returning.length} returning users get their first token`);
  await setQuotas(emulator, false);
  const warmStarted = performance.now();
  const earlier = new Map<string, string>();
  await eachLimited([...returning, probeUser], 16, async (user, i) => {
    // A busy machine can make Azurite or the emulator slow to answer: retry the warm-up a little.
    for (let attempt = 0; ; attempt++) {
      const answer = await send(
        `${instances[(i + attempt) % instances.length]!.host.url}/api/token`,
        {
          method: 'POST',
          headers: { ...json, cookie: cookies.get(user) ?? '' },
          body: '{"scopes":["voip"]}',
          agent: clientAgent,
          timeoutMs: 60_000,
        },
      ).catch(() => undefined);
      if (answer?.status === 200) {
        const body = JSON.parse(answer.body) as { user: { communicationUserId: string } };
        earlier.set(user, body.user.communicationUserId);
        return;
      }
      if (attempt >= 20) throw new Error(`warm-up of ${user}: ${answer?.status} ${answer?.body}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  });
  await setQuotas(emulator, true);
  console.log(`  (${round((performance.now() - warmStarted) / 1000, 1)} s)`);

  const records: SurgeRecord[] = [];
  const extras: Record<string, unknown> = {};
  const phases: { impl: SurgeRecord['impl']; kind: Kind; crowd: boolean }[] = [
    { impl: 'ours', kind: 'service', crowd: false },
    { impl: 'baseline', kind: 'seed', crowd: false },
    ...(settings.crowdUsers > 0
      ? [{ impl: 'baseline-crowd' as const, kind: 'seed' as const, crowd: true }]
      : []),
  ];
  const crowdShape = {
    arrivalSeconds: settings.crowdArrivalSeconds,
    seconds: settings.crowdSeconds,
  };
  const runPhase = async (
    impl: SurgeRecord['impl'],
    kind: Kind,
    shape: { arrivalSeconds: number; seconds: number },
    users: string[],
    returningUsers: string[],
    known: Map<string, string>,
    since?: string,
  ) => {
    console.log(`  surge: ${impl}`);
    await setQuotas(emulator, true);
    const before = await quotaTotals(emulator);
    const phase = await surge(kind, shape, instances, users, returningUsers, cookies, known);
    // ACS calls while the crowd arrived: before the stragglers' settling (the filler keeps going).
    const duringCrowd = (await quotaTotals(emulator)).calls - before.calls;
    await settle(instances);
    // Whoever holds an identity: the identity map (ours) or a caller who was handed it.
    const handedOut = new Set(phase.outcomes.flatMap((o) => [...o.identities]));
    if (kind === 'service')
      for (const id of (await mappedIdentities(azurite.connectionString)).keys()) handedOut.add(id);
    const row = await record(impl, phase, instances, emulator, before, handedOut, since);
    if (impl === 'pool' || impl === 'baseline-crowd') {
      row.acsCallsDuringCrowd = duringCrowd;
      row.newServed = phase.outcomes.filter((o) => !o.returning && o.served).length;
      row.newP50Ms = round(percentile(phase.newLatencies, 50), 1);
      row.newP99Ms = round(percentile(phase.newLatencies, 99), 1);
      if (impl === 'pool') row.cachedP50Ms = round(percentile(phase.returningLatencies, 50), 1);
    }
    row.loadAverage1m = round(os.loadavg()[0] ?? NaN, 2);
    records.push(row);
    const perInstance = afterFirst429(instances, phase.startedAt);
    const after = perInstance.reduce((sum, p) => sum + p.callsAfterFirst429, 0);
    const refused = perInstance.reduce((sum, p) => sum + p.refusedAfterFirst429, 0);
    extras[impl] = {
      perInstance,
      refusedShareAfterFirst429: after === 0 ? 0 : round(refused / after, 4),
      returningServed: phase.outcomes.filter((o) => o.returning && o.served).length,
      newServed: phase.outcomes.filter((o) => !o.returning && o.served).length,
      timeouts: phase.timeouts,
      statuses: Object.fromEntries(phase.statuses),
      problems: Object.fromEntries(phase.problems),
    };
    console.log(`    ${JSON.stringify(row)}\n    ${JSON.stringify(extras[impl])}`);
  };

  for (const { impl, kind, crowd: isCrowd } of phases) {
    if (isCrowd) await runPhase(impl, kind, crowdShape, crowd, [], new Map<string, string>());
    else {
      const shape = { arrivalSeconds: settings.arrivalSeconds, seconds: settings.seconds };
      await runPhase(
        impl,
        kind,
        shape,
        newUsers,
        returning,
        kind === 'service' ? earlier : new Map<string, string>(),
      );
    }
    if (impl === 'ours') {
      await setQuotas(emulator, true);
      extras.revoke = await revokeAcrossInstances(instances, cookies.get(probeUser) ?? '');
      extras.rateLimit = await rateLimitAcrossInstances(instances, cookies.get(probeUser) ?? '');
      console.log(
        `    revoke: ${JSON.stringify(extras.revoke)}; rate limit: ${JSON.stringify(extras.rateLimit)}`,
      );
    }
  }

  if (settings.crowdUsers > 0) {
    // The pool: filled first, by the instances' own timer (one of them at a time), at the fill
    // share; then the instances restart with the deployment's share, as after a config change.
    await stopInstances(instances);
    await setQuotas(emulator, true);
    const fillStartedIso = new Date().toISOString();
    const fillStarted = performance.now();
    console.log(
      `  filling the pool: ${poolSize} identities at ${settings.poolFillPercent}% of each ACS window`,
    );
    const fillBefore = await quotaTotals(emulator);
    const poolEnv = (percent: number) => ({
      POOL_SIZE: String(poolSize),
      POOL_QUOTA_SHARE: String(percent / 100),
    });
    instances = await startInstances(
      emulator,
      azurite,
      cacheKey,
      poolEnv(settings.poolFillPercent),
    );
    const fillSeconds = await waitForPool(instances[0]!, poolSize, fillStarted);
    const fillAfter = await quotaTotals(emulator);
    extras.poolFill = {
      size: poolSize,
      seconds: fillSeconds,
      sharePercent: settings.poolFillPercent,
      acsCalls: fillAfter.calls - fillBefore.calls,
      acs429: fillAfter.refused - fillBefore.refused,
      loadAverage1m: round(os.loadavg()[0] ?? NaN, 2),
    };
    extras.poolSteadyState = {
      sharePercent: settings.poolPercent,
      ...steadyStateCost(poolSize, settings.poolPercent),
    };
    console.log(
      `    filled in ${fillSeconds} s: ${JSON.stringify(extras.poolFill)}; steady state: ${JSON.stringify(extras.poolSteadyState)}`,
    );
    await stopInstances(instances);
    instances = await startInstances(emulator, azurite, cacheKey, poolEnv(settings.poolPercent));
    await waitForPool(instances[0]!, poolSize, performance.now());
    const cachedUsers = returning.slice(0, settings.crowdReturning);
    await runPhase('pool', 'service', crowdShape, crowd, cachedUsers, earlier, fillStartedIso);
  }
  await cleanUp();

  const ours = extras.ours as
    { refusedShareAfterFirst429: number; returningServed: number } | undefined;
  const targets = surgeTargets(records, {
    oursReturningServed: ours?.returningServed,
    oursRefusedShareAfterFirst429: ours?.refusedShareAfterFirst429,
  });
  console.log(renderSurgeReport(records, targets));
  const rateLimit = extras.rateLimit as { admitted: number };
  console.log(
    `revoke on instance 1 retired the cached token on instances 0..${settings.instances - 1} after ${JSON.stringify((extras.revoke as { retiredAfterMs: number[] }).retiredAfterMs)} ms; one principal's 200 requests over ${settings.instances} instances: ${rateLimit.admitted} admitted (its burst is per instance)`,
  );
  if (extras.poolFill) {
    console.log(
      `pool: filled ${poolSize} in ${(extras.poolFill as { seconds: number }).seconds} s; steady state at ${settings.poolPercent}%: ${JSON.stringify(extras.poolSteadyState)}`,
    );
  }

  const out = path.resolve(
    projectRoot,
    process.env.SURGE_RESULTS?.trim() || path.join('bench', 'results', 'surge.json'),
  );
  mkdirSync(path.dirname(out), { recursive: true });
  const text = await format(JSON.stringify(records), {
    ...(await resolveConfig(out)),
    parser: 'json',
  });
  writeFileSync(out, text);
  const details = { settings, loadStart, loadEnd: os.loadavg(), ...extras };
  // The details beside the rows, so the fill time and the machine's load stay with the result.
  writeFileSync(
    out.replace(/\.json$/, '.details.json'),
    await format(JSON.stringify(details), { ...(await resolveConfig(out)), parser: 'json' }),
  );
  console.log(
    `results: ${path.relative(projectRoot, out)}; details of this run: ${JSON.stringify(details)}`,
  );
  if (targets.some((t) => t.status !== 'PASS')) process.exitCode = 1;
}

main().catch(async (err: unknown) => {
  console.error(err);
  await cleanUp();
  process.exit(1);
});
