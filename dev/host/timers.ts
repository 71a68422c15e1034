/**
 * Timer triggers as the Functions host runs them (azure-webjobs-sdk-extensions,
 * src/WebJobs.Extensions/Extensions/Timers/): the schedule is NCRONTAB with seconds, six fields
 * (`Scheduling/CronSchedule.cs`, `IncludingSeconds = true`) or a TimeSpan `hh:mm:ss`
 * (`ConstantSchedule`); an app setting may stand in for it as `%NAME%`. The listener is a singleton
 * (`Listener/TimerListener.cs`, `[Singleton(Mode = SingletonMode.Listener)]`): across every
 * instance of the app only the one holding the listener lock in AzureWebJobsStorage runs the
 * schedule; the others retry the lock every `singleton.listenerLockRecoveryPollingInterval`. On
 * start the holder invokes the function at once when the monitor's recorded `Next` has passed
 * (`isPastDue`) or, failing that, when `runOnStartup` is set; otherwise at the next occurrence.
 * One invocation at a time: the next occurrence is computed when an invocation ends, and a failed
 * invocation never stops the schedule. With `useMonitor` (default: schedules at least a minute
 * apart) the status `{last, next, lastUpdated}` is kept in storage (`StorageScheduleMonitor.cs`,
 * blob `timers/{hostId}/{timer}/status`) and handed to the function.
 *
 * Stand-ins: the lock and the status live in a table of AzureWebJobsStorage (Azurite locally)
 * rather than a blob lease and a blob; the semantics (one holder, a lease that expires unless
 * renewed, a status that survives restarts) are the host's.
 */
import { randomUUID } from 'node:crypto';
import { InvocationContext, type Timer } from '@azure/functions';
import type { TableClient } from '@azure/data-tables';
import { CronExpressionParser } from 'cron-parser';
import { toRecord, type LogSink } from './logger';

export interface TimerTriggerBinding {
  type: 'timerTrigger';
  schedule: string;
  runOnStartup?: boolean;
  useMonitor?: boolean;
}

/** One `app.timer(...)` registration as the library hands it to the worker. */
export interface TimerRegistration {
  name: string;
  trigger: TimerTriggerBinding;
  handler: (timer: Timer, context: InvocationContext) => unknown;
}

/** A schedule: the next occurrence strictly after `from`. */
export interface Schedule {
  next(from: Date): Date;
  text: string;
}

/**
 * Parses a schedule the way `TimerSchedule.Create` does: `%NAME%` resolved from the app settings,
 * then a six-field NCRONTAB expression, else a TimeSpan. Throws with the host's kind of message.
 */
export function parseSchedule(raw: string, env: NodeJS.ProcessEnv = process.env): Schedule {
  const named = /^%([^%]+)%$/.exec(raw.trim());
  const text = named ? (env[named[1] ?? ''] ?? '').trim() : raw.trim();
  if (named && !text) throw new Error(`timer schedule: app setting ${named[1]} is not set`);
  const span = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (span) {
    const ms =
      (((Number(span[1] ?? 0) * 24 + Number(span[2])) * 60 + Number(span[3])) * 60 +
        Number(span[4])) *
      1000;
    if (ms <= 0) throw new Error(`timer schedule "${text}": the interval must be positive`);
    return { text, next: (from) => new Date(from.getTime() + ms) };
  }
  if (text.split(/\s+/).length !== 6) {
    throw new Error(
      `timer schedule "${text}" is not a valid CRON expression: NCRONTAB needs six fields, {second} {minute} {hour} {day} {month} {day-of-week}`,
    );
  }
  try {
    CronExpressionParser.parse(text, { tz: 'UTC' });
  } catch (err) {
    throw new Error(
      `timer schedule "${text}" is not a valid CRON expression: ${(err as Error).message}`,
    );
  }
  return {
    text,
    next: (from) =>
      CronExpressionParser.parse(text, { currentDate: from, tz: 'UTC' }).next().toDate(),
  };
}

/** The library's rule for `useMonitor` left unset: on for schedules at least a minute apart. */
export function monitorByDefault(schedule: Schedule, from = new Date()): boolean {
  const first = schedule.next(from);
  return schedule.next(first).getTime() - first.getTime() >= 60_000;
}

export interface TimerHostOptions {
  timers: TimerRegistration[];
  /** AzureWebJobsStorage's table client factory; undefined: timers cannot run (as in Azure). */
  storage: (() => Promise<TableClient>) | undefined;
  /** Instances of one app share it (Azure: the site's host id). */
  hostId: string;
  log: LogSink;
  /** `singleton.listenerLockPeriod` (host default 60 s). */
  lockPeriodMs?: number;
  /** `singleton.listenerLockRecoveryPollingInterval` (host default 60 s). */
  recoveryPollMs?: number;
  env?: NodeJS.ProcessEnv;
}

interface LockRow {
  partitionKey: string;
  rowKey: string;
  owner: string;
  leaseUntil: number;
}

interface StatusRow {
  partitionKey: string;
  rowKey: string;
  last: string;
  next: string;
  lastUpdated: string;
}

/** What a host-level lock and status table is called here (a table name: letters and digits). */
export const TIMER_TABLE = 'azurewebjobshosts';
const DEFAULT_DATE = '0001-01-01T00:00:00.000Z';

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/**
 * Starts every timer of the app. Resolves at once; `stop()` ends the schedules, waits for an
 * invocation in progress and gives the locks back.
 */
export function startTimers(options: TimerHostOptions): { stop(): Promise<void> } {
  const lockPeriodMs = options.lockPeriodMs ?? 60_000;
  const recoveryPollMs = options.recoveryPollMs ?? 60_000;
  const owner = randomUUID();
  const stops: (() => Promise<void>)[] = [];
  const log = (level: 'information' | 'warning' | 'error', message: string, name: string) =>
    options.log({ ...toRecord(level, [message]), functionName: name });

  for (const timer of options.timers) {
    let schedule: Schedule;
    try {
      schedule = parseSchedule(timer.trigger.schedule, options.env);
    } catch (err) {
      // The host refuses to index such a function; the others still run.
      log(
        'error',
        `${timer.name}: ${(err as Error).message}; the function is not running`,
        timer.name,
      );
      continue;
    }
    if (!options.storage) {
      log(
        'error',
        `${timer.name}: AzureWebJobsStorage is not set; timer triggers need it for their singleton lock`,
        timer.name,
      );
      continue;
    }
    const useMonitor = timer.trigger.useMonitor ?? monitorByDefault(schedule);
    stops.push(runTimer(timer, schedule, useMonitor));
  }

  function runTimer(timer: TimerRegistration, schedule: Schedule, useMonitor: boolean) {
    const connect = options.storage!;
    let table: Promise<TableClient> | undefined;
    const tableClient = () =>
      (table ??= connect().then(async (t) => {
        await t.createTable().catch((err: unknown) => {
          if (statusOf(err) !== 409) throw err;
        });
        return t;
      })).catch((err: unknown) => {
        table = undefined;
        throw err;
      });
    const lockKey = `${timer.name}.Listener`;
    const statusKey = `${timer.name}.Status`;
    let stopped = false;
    let holding = false;
    let wake: NodeJS.Timeout | undefined;
    let renew: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();

    /** Takes (or keeps) the listener lock; false when another instance holds it. */
    async function acquire(): Promise<boolean> {
      const t = await tableClient();
      const row: LockRow = {
        partitionKey: options.hostId,
        rowKey: lockKey,
        owner,
        leaseUntil: Date.now() + lockPeriodMs,
      };
      try {
        const current = await t.getEntity<LockRow>(options.hostId, lockKey);
        if (current.owner !== owner && Number(current.leaseUntil) > Date.now()) return false;
        await t.updateEntity(row, 'Replace', { etag: current.etag });
        return true;
      } catch (err) {
        if (statusOf(err) === 412) return false;
        if (statusOf(err) !== 404) throw err;
        try {
          await t.createEntity(row);
          return true;
        } catch (inner) {
          if (statusOf(inner) === 409) return false;
          throw inner;
        }
      }
    }

    async function readStatus(): Promise<Timer['scheduleStatus'] | undefined> {
      const t = await tableClient();
      try {
        const row = await t.getEntity<StatusRow>(options.hostId, statusKey);
        return { last: row.last, next: row.next, lastUpdated: row.lastUpdated };
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    }

    async function writeStatus(status: Timer['scheduleStatus']): Promise<void> {
      const t = await tableClient();
      // Best effort, as StorageScheduleMonitor.UpdateStatusAsync.
      await t
        .upsertEntity<StatusRow>(
          { partitionKey: options.hostId, rowKey: statusKey, ...status },
          'Replace',
        )
        .catch(() => undefined);
    }

    let status: Timer['scheduleStatus'] = {
      last: DEFAULT_DATE,
      next: schedule.next(new Date()).toISOString(),
      lastUpdated: DEFAULT_DATE,
    };

    async function invoke(reason: 'schedule' | 'pastDue' | 'startup'): Promise<void> {
      const invocationId = randomUUID();
      const context = new InvocationContext({
        functionName: timer.name,
        invocationId,
        logHandler: (level, ...args) =>
          options.log({ ...toRecord(level, args), functionName: timer.name, invocationId }),
      });
      const input: Timer = {
        isPastDue: reason === 'pastDue',
        schedule: { adjustForDST: true },
        // The host hands the status only with the monitor on (TimerListener.InvokeJobFunction).
        scheduleStatus: useMonitor ? status : (null as unknown as Timer['scheduleStatus']),
      };
      const invokedAt = new Date();
      try {
        await timer.handler(input, context);
      } catch (err) {
        log(
          'error',
          `${timer.name} failed: ${err instanceof Error ? err.name : typeof err}`,
          timer.name,
        );
      }
      // A scheduled run that fired a little early counts from its occurrence (TimerListener).
      const from =
        reason === 'schedule' && new Date(status.next) > invokedAt
          ? new Date(status.next)
          : invokedAt;
      status = {
        last: from.toISOString(),
        next: schedule.next(from).toISOString(),
        lastUpdated: from.toISOString(),
      };
      if (useMonitor) await writeStatus(status);
    }

    function arm(first?: 'pastDue' | 'startup'): void {
      if (stopped || !holding) return;
      const delay = first ? 0 : Math.max(0, new Date(status.next).getTime() - Date.now());
      // setTimeout's own limit is about 24.8 days; TimerListener re-arms long intervals the same way.
      wake = setTimeout(
        () => {
          if (!first && Date.now() < new Date(status.next).getTime()) return arm();
          running = invoke(first ?? 'schedule').finally(() => arm());
        },
        Math.min(delay, 24 * 24 * 3600_000),
      );
    }

    async function start(): Promise<void> {
      let reason: 'pastDue' | 'startup' | undefined;
      if (useMonitor) {
        const kept = await readStatus();
        if (kept) {
          status = kept;
          if (new Date(kept.next).getTime() < Date.now()) reason = 'pastDue';
        }
      }
      reason ??= timer.trigger.runOnStartup ? 'startup' : undefined;
      log(
        'information',
        `${timer.name}: listener lock taken; schedule ${schedule.text}`,
        timer.name,
      );
      arm(reason);
      // Renew the lease well before it runs out; losing it stops this instance's schedule.
      renew = setInterval(() => {
        acquire()
          .then((still) => {
            if (!still && holding) {
              holding = false;
              if (wake) clearTimeout(wake);
              log('warning', `${timer.name}: listener lock lost`, timer.name);
              void contend();
            }
          })
          .catch(() => undefined);
      }, lockPeriodMs / 2);
    }

    async function contend(): Promise<void> {
      while (!stopped && !holding) {
        const got = await acquire().catch((err: unknown) => {
          log(
            'warning',
            `${timer.name}: lock storage unavailable (${statusOf(err) ?? 'no answer'})`,
            timer.name,
          );
          return false;
        });
        if (got) {
          holding = true;
          if (renew) clearInterval(renew);
          await start();
          return;
        }
        await new Promise<void>((resolve) => {
          wake = setTimeout(resolve, recoveryPollMs);
        });
      }
    }

    void contend();

    return async () => {
      stopped = true;
      if (wake) clearTimeout(wake);
      if (renew) clearInterval(renew);
      await running;
      if (holding) {
        // Give the lock back so another instance can take over at once (only if still ours).
        const t = await tableClient().catch(() => undefined);
        const current = await t?.getEntity<LockRow>(options.hostId, lockKey).catch(() => undefined);
        if (t && current?.owner === owner) {
          await t
            .updateEntity<LockRow>(
              { partitionKey: options.hostId, rowKey: lockKey, owner: '', leaseUntil: 0 },
              'Replace',
              { etag: current.etag },
            )
            .catch(() => undefined);
        }
      }
    };
  }

  return {
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}
