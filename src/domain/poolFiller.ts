import { AppError, isIdentityNotFound } from './errors';
import type { IdentityService } from './identityService';
import type { IdentityMap } from './identityMap';
import {
  poolBinding,
  slotIndex,
  slotKey,
  type PoolSlot,
  type PoolSlotUpdate,
  type PoolStore,
  type PoolSummary,
} from './identityPool';
import { toCachedToken, type TokenSealer } from './tokenCache';
import type { TokenGrant } from './tokenPolicy';

const MINUTE = 60_000;
/** The cache's rule (`servesGrant`): a token serves while max(15 min, half its lifetime) is left. */
const SERVE_FLOOR_MS = 15 * MINUTE;
/** Re-issue this long before a token stops serving, so a few missed runs do not empty the pool. */
export const POOL_REFRESH_LEAD_MS = 5 * MINUTE;
/** ACS counts its quotas in windows of 30 s (service-limits page, Identity table). */
export const ACS_WINDOW_MS = 30_000;
/**
 * The budget's span is a little longer than ACS's window: a call is counted here before it travels,
 * ACS counts it on arrival, and a call that travels faster than the one that opened ACS's window
 * would otherwise land in that window and be refused (measured: 7 refusals in a fill at 100%).
 */
const WINDOW_SLACK_MS = 1_000;
/** ACS's per-resource limits per window for the operations the filler makes. */
export const ACS_WINDOW_LIMITS = {
  createUserAndToken: 1000,
  issueAccessToken: 1000,
  deleteIdentity: 500,
} as const;
export type PoolOperation = keyof typeof ACS_WINDOW_LIMITS;
/** How often a run in progress updates the summary /api/health reads. */
const PROGRESS_EVERY_MS = 5_000;

/** When a pooled token must be re-issued: it would stop serving its grant within the lead. */
export function refreshBelowMs(grant: TokenGrant): number {
  return Math.max(SERVE_FLOOR_MS, (grant.expiresInMinutes * MINUTE) / 2) + POOL_REFRESH_LEAD_MS;
}

/**
 * The filler's share of ACS: at most `share` of each operation's limit in any 30-s span (a sliding
 * log, so it holds whichever way ACS aligns its windows). It lives as long as the process, so it
 * spans timer runs. It bounds this process only; one filler at a time is the host's singleton.
 */
export class PoolBudget {
  private readonly spent = new Map<PoolOperation, number[]>();

  constructor(
    private readonly share: number,
    private readonly now: () => number = Date.now,
    private readonly limits: Record<PoolOperation, number> = ACS_WINDOW_LIMITS,
    private readonly windowMs = ACS_WINDOW_MS + WINDOW_SLACK_MS,
  ) {}

  /** Calls of `op` allowed per window. */
  allowance(op: PoolOperation): number {
    return Math.floor(this.limits[op] * this.share);
  }

  /** Takes one call of `op`, or says how long until one frees (ms). */
  take(op: PoolOperation): true | number {
    const now = this.now();
    const log = (this.spent.get(op) ?? []).filter((t) => t > now - this.windowMs);
    this.spent.set(op, log);
    if (log.length < this.allowance(op)) {
      log.push(now);
      return true;
    }
    return (log[0] ?? now) + this.windowMs - now;
  }
}

export interface PoolFillerOptions {
  store: PoolStore;
  map: IdentityMap | undefined;
  identity: IdentityService;
  sealer: TokenSealer;
  scope: string;
  grant: TokenGrant;
  size: number;
  budget: PoolBudget;
  /** How long a recorded claim may take to write its mapping before the filler finishes it. */
  claimLeaseMs: number;
  /** How long a slot being filled belongs to its filler (longer than one ACS call). */
  fillLeaseMs: number;
  /** The run ends by then (epoch ms), budget or not: a timer invocation must end. */
  deadline: number;
  concurrency?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PoolRunReport {
  created: number;
  refreshed: number;
  /** Identities deleted in ACS (never handed out, or surplus). */
  discarded: number;
  /** Claimed slots cleared (their claims were complete). */
  cleared: number;
  ready: number;
  claimed: number;
  target: number;
  stoppedBy?: 'throttled' | 'deadline' | 'error';
  ms: number;
}

class Stop extends Error {
  constructor(readonly reason: 'throttled' | 'deadline') {
    super(reason);
  }
}

/**
 * One run of the pool's timer: finishes claims a crash interrupted, re-issues tokens before they
 * stop serving, fills empty slots up to `size`, and deletes what must not stay. Every write names
 * the etag read, so a second filler running at once (the singleton lost) can waste a call but never
 * overfill a slot, hand out an identity twice or orphan one. A 429 (or the gate already closed)
 * stops the run at once.
 */
export async function fillPool(options: PoolFillerOptions): Promise<PoolRunReport> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const started = now();
  const report: PoolRunReport = {
    created: 0,
    refreshed: 0,
    discarded: 0,
    cleared: 0,
    ready: 0,
    claimed: 0,
    target: options.size,
    ms: 0,
  };
  let stopped: Stop | undefined;

  /** Waits for the budget (within the deadline) or stops the run. */
  const spend = async (op: PoolOperation) => {
    for (;;) {
      if (stopped) throw stopped;
      const taken = options.budget.take(op);
      if (taken === true) return;
      if (now() + taken >= options.deadline) throw (stopped = new Stop('deadline'));
      await sleep(Math.min(taken, 1_000));
    }
  };
  /** Runs an ACS call; a throttle answer (or a closed gate) stops everything. */
  const acs = async <T>(op: PoolOperation, call: () => Promise<T>): Promise<T> => {
    await spend(op);
    try {
      return await call();
    } catch (err) {
      if (err instanceof AppError && err.code === 'upstream_throttled') {
        stopped ??= new Stop('throttled');
      }
      throw err;
    }
  };

  const seal = (slot: string, id: string, token: { token: string; expiresOn: Date }) => ({
    sealed: options.sealer.seal(
      toCachedToken(token, options.grant),
      poolBinding(slot, id, options.scope),
    ),
    tokenExpiresOn: token.expiresOn.getTime(),
  });

  /** Deletes an identity nobody holds, then its slot; the `discarding` mark comes first. */
  const discard = async (slot: PoolSlot) => {
    const id = slot.communicationUserId;
    const marked =
      slot.state === 'discarding'
        ? slot
        : await options.store.replace(slot, {
            state: 'discarding',
            ...(id ? { communicationUserId: id } : {}),
          });
    if (!marked) return;
    if (id) {
      try {
        await acs('deleteIdentity', () => options.identity.deleteUser(id));
      } catch (err) {
        if (!isIdentityNotFound(err)) throw err;
      }
      report.discarded += 1;
    }
    await options.store.remove(marked);
  };

  /**
   * A claim recorded longer ago than its lease: its request died or lost its way between the two
   * writes. The principal's row decides: naming this identity, the claim is complete; absent, an
   * expired reservation is put there first (so the late request's insert can no longer land),
   * then, since no row names the identity, nobody ever got it and it is deleted.
   */
  const finishClaim = async (slot: PoolSlot) => {
    const key = slot.claimedBy;
    const id = slot.communicationUserId;
    if (!key || !id || key === 'key' || !options.map) return discard(slot);
    for (let pass = 0; pass < 3; pass++) {
      const row = await options.map.get(key);
      if (row) {
        if (row.communicationUserId === id) {
          if (await options.store.remove(slot)) report.cleared += 1;
          return;
        }
        return discard(slot);
      }
      // An expired reservation: the principal's next request takes it over as usual.
      if (await options.map.insert(key, { leaseUntil: 1, generation: 0 })) return discard(slot);
    }
  };

  const refresh = async (slot: PoolSlot) => {
    const id = slot.communicationUserId ?? '';
    let token;
    try {
      token = await acs('issueAccessToken', () =>
        options.identity.getToken(id, options.grant.scopes, options.grant.expiresInMinutes),
      );
    } catch (err) {
      // Gone from ACS (deleted elsewhere, or another resource after a change of key): drop it.
      if (isIdentityNotFound(err)) await options.store.remove(slot);
      throw err;
    }
    // Lost to a claim meanwhile: the claimer has the old token, which still serves.
    const next: PoolSlotUpdate = {
      state: 'ready',
      communicationUserId: id,
      ...seal(slot.slot, id, token),
    };
    if (await options.store.replace(slot, next)) report.refreshed += 1;
  };

  const fill = async (index: number) => {
    const slot = slotKey(index);
    const held = await options.store.insert(slot, {
      state: 'filling',
      leaseUntil: now() + options.fillLeaseMs,
    });
    if (!held) return; // another filler got there first
    let issued;
    try {
      issued = await acs('createUserAndToken', () =>
        options.identity.createUserAndToken(options.grant.scopes, options.grant.expiresInMinutes),
      );
    } catch (err) {
      await options.store.remove(held).catch(() => false);
      throw err;
    }
    const id = issued.communicationUserId;
    let done;
    try {
      done = await options.store.replace(held, {
        state: 'ready',
        communicationUserId: id,
        ...seal(slot, id, issued.accessToken),
      });
    } catch (err) {
      await options.identity.deleteUser(id).catch(() => undefined);
      throw err;
    }
    if (done) report.created += 1;
    // The lease ran out and the slot was taken from us: never leave the identity behind.
    else await options.identity.deleteUser(id).catch(() => undefined);
  };

  const slots = await options.store.list();
  const t = now();
  const taken = new Set<number>();
  const tasks: (() => Promise<void>)[] = [];
  const refreshBelow = refreshBelowMs(options.grant);
  const refreshes: PoolSlot[] = [];
  const ready: PoolSlot[] = [];
  for (const slot of slots) {
    const index = slotIndex(slot.slot);
    if (Number.isFinite(index)) taken.add(index);
    const surplus = !(index < options.size);
    switch (slot.state) {
      case 'claimed':
        if ((slot.claimedAt ?? 0) + options.claimLeaseMs <= t) tasks.push(() => finishClaim(slot));
        break;
      case 'discarding':
        tasks.push(() => discard(slot));
        break;
      case 'filling':
        // Its filler died, perhaps after ACS made the identity, which then is a lost answer.
        if ((slot.leaseUntil ?? 0) <= t)
          tasks.push(() => options.store.remove(slot).then(() => undefined));
        break;
      case 'ready': {
        const opens =
          slot.sealed &&
          slot.communicationUserId &&
          options.sealer.open(
            slot.sealed,
            poolBinding(slot.slot, slot.communicationUserId, options.scope),
          );
        if (surplus || !slot.communicationUserId) tasks.push(() => discard(slot));
        else if (!opens || (slot.tokenExpiresOn ?? 0) - t < refreshBelow) refreshes.push(slot);
        else ready.push(slot);
        break;
      }
    }
  }
  // Tokens filled together stop serving together, and the budget re-issues only so many per
  // window: start early enough that the queue drains before its last token stops serving.
  // Token i (soonest first) is due once it would stop serving before i budget intervals pass.
  const perTokenMs = ACS_WINDOW_MS / Math.max(1, options.budget.allowance('issueAccessToken'));
  const serving = [...ready].sort((a, b) => (a.tokenExpiresOn ?? 0) - (b.tokenExpiresOn ?? 0));
  const ahead = refreshes.length;
  serving.forEach((slot, i) => {
    if ((slot.tokenExpiresOn ?? 0) - refreshBelow < t + (ahead + i) * perTokenMs) {
      refreshes.push(slot);
    }
  });
  // Soonest to stop serving first.
  refreshes.sort((a, b) => (a.tokenExpiresOn ?? 0) - (b.tokenExpiresOn ?? 0));
  for (const slot of refreshes) tasks.push(() => refresh(slot));
  for (let index = 0; index < options.size; index++) {
    if (!taken.has(index)) tasks.push(() => fill(index));
  }

  // A long run (a fill from empty) tells /api/health how far it got every few seconds.
  const due = new Set(refreshes);
  const readyAtStart = ready.filter((slot) => !due.has(slot)).length;
  const claimedAtStart = slots.filter((slot) => slot.state === 'claimed').length;
  let reportedAt = now();
  const progress = () => {
    if (now() - reportedAt < PROGRESS_EVERY_MS) return;
    reportedAt = now();
    options.store
      .writeSummary({
        ready: readyAtStart + report.created + report.refreshed,
        claimed: claimedAtStart,
        target: options.size,
        ranAt: reportedAt,
      })
      .catch(() => undefined);
  };
  let failures = 0;
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !stopped) {
      if (now() >= options.deadline) {
        stopped = new Stop('deadline');
        break;
      }
      const task = tasks[next++]!;
      try {
        await task();
        progress();
      } catch {
        failures += 1;
        // Storage or ACS failing over and over: leave the rest to the next run.
        if (failures >= 20) stopped ??= new Stop('deadline');
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  if (stopped) report.stoppedBy = stopped.reason;
  else if (failures > 0) report.stoppedBy = 'error';
  // The pool as this run left it, for /api/health (one row read per probe instead of a listing).
  const after = await options.store.list();
  const lifetime = options.grant.expiresInMinutes * MINUTE;
  const issuedAt = after
    .filter((s) => s.state === 'ready' && s.tokenExpiresOn)
    .map((s) => (s.tokenExpiresOn ?? 0) - lifetime);
  report.ready = issuedAt.length;
  report.claimed = after.filter((s) => s.state === 'claimed').length;
  const summary: PoolSummary = {
    ready: report.ready,
    claimed: report.claimed,
    target: options.size,
    ...(issuedAt.length ? { oldestIssuedAt: issuedAt.reduce((a, b) => Math.min(a, b)) } : {}),
    ranAt: now(),
  };
  await options.store.writeSummary(summary);
  report.ms = now() - started;
  return report;
}
