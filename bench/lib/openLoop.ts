import http from 'node:http';
import type { RequestShape } from './load';

interface OpenLoopPlan {
  /** Requests started per second, whatever the answers do. */
  ratePerSec: number;
  seconds: number;
}

interface OpenLoopOutcome {
  sent: number;
  /** 2xx answers. */
  tokens: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  /** From each request's scheduled send time to its answer's end, 2xx only, ms, ascending. */
  latencies: number[];
  /** Most the generator itself sent a request after its scheduled time (its own lateness). */
  maxSendLagMs: number;
}

/**
 * Open-loop load: request i is scheduled at start + i / rate, by the clock, and its latency is
 * measured from that scheduled time, not from when it went out. A slow answer therefore never
 * delays the next request (no coordinated omission), and if the generator itself falls behind,
 * the lateness counts against the service rather than vanishing. Each request in flight has its
 * own keep-alive connection from an unlimited pool, as independent callers would.
 */
export async function openLoop(
  baseUrl: string,
  shape: RequestShape,
  plan: OpenLoopPlan,
): Promise<OpenLoopOutcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const total = Math.max(1, Math.round(plan.ratePerSec * plan.seconds));
  const intervalMs = 1000 / plan.ratePerSec;
  const outcome: OpenLoopOutcome = {
    sent: 0,
    tokens: 0,
    non2xx: 0,
    errors: 0,
    statusCounts: {},
    latencies: [],
    maxSendLagMs: 0,
  };
  const url = new URL(shape.path, baseUrl);
  const finished: Promise<void>[] = [];

  const sendOne = (scheduledAt: number) =>
    new Promise<void>((resolve) => {
      outcome.sent += 1;
      outcome.maxSendLagMs = Math.max(outcome.maxSendLagMs, performance.now() - scheduledAt);
      const body = shape.body ?? '';
      const req = http.request(url, {
        method: shape.method,
        headers: {
          ...shape.headers,
          ...shape.perRequest?.(),
          'content-length': String(Buffer.byteLength(body)),
        },
        agent,
        timeout: 30_000,
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          outcome.statusCounts[status] = (outcome.statusCounts[status] ?? 0) + 1;
          if (status >= 200 && status < 300) {
            outcome.tokens += 1;
            outcome.latencies.push(performance.now() - scheduledAt);
          } else {
            outcome.non2xx += 1;
          }
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        outcome.errors += 1;
        resolve();
      });
      req.end(body);
    });

  const start = performance.now() + 10;
  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && start + next * intervalMs <= now) {
      finished.push(sendOne(start + next * intervalMs));
      next += 1;
    }
    if (next < total) {
      const wait = start + next * intervalMs - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  }
  await Promise.all(finished);
  agent.destroy();
  outcome.latencies.sort((a, b) => a - b);
  return outcome;
}
