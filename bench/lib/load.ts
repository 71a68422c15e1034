import autocannon from 'autocannon';

export interface RequestShape {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Extra headers chosen per request (a principal's session cookie, for instance). */
  perRequest?: () => Record<string, string>;
}

export interface LoadPlan {
  connections: number;
  /** Exactly this many requests (every response accounted for), or … */
  amount?: number;
  /** … as many as fit in this many seconds (in-flight requests at the end are dropped). */
  durationSeconds?: number;
  /** Hard stop for an `amount` run that is far slower than expected; marks it truncated. */
  capSeconds?: number;
  /** Told about every response as it arrives (the soak uses it to pace its RSS samples). */
  onResponse?: () => void;
}

interface LoadOutcome {
  /** 2xx responses: each one is a token. */
  tokens: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCounts: Record<string, number>;
  /** From the first request sent to the last response received. */
  seconds: number;
  /** Latencies of the 2xx responses in ms, ascending. */
  latencies: number[];
  truncated: boolean;
}

/**
 * One autocannon run against `baseUrl`. Latencies and elapsed time are taken here, from each
 * response, rather than from autocannon's summary: its histogram has whole-millisecond buckets
 * and its duration runs on to the next sampling tick after the last response.
 */
export async function fire(
  baseUrl: string,
  shape: RequestShape,
  plan: LoadPlan,
): Promise<LoadOutcome> {
  const { perRequest } = shape;
  const request: autocannon.Request = {
    method: shape.method,
    path: shape.path,
    headers: shape.headers,
    ...(shape.body === undefined ? {} : { body: shape.body }),
    ...(perRequest
      ? {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            headers: { ...req.headers, ...perRequest() },
          }),
        }
      : {}),
  };
  const latencies: number[] = [];
  const statusCounts: Record<string, number> = {};
  let lastResponseAt = 0;
  const startedAt = performance.now();
  // Without a callback autocannon returns its event emitter, made thenable with the result.
  const instance = autocannon({
    url: baseUrl,
    connections: plan.connections,
    ...(plan.amount === undefined
      ? { duration: plan.durationSeconds ?? 10 }
      : { amount: Math.max(plan.amount, plan.connections) }),
    sampleInt: 100,
    requests: [request],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', (_client, status, _bytes, responseTime) => {
    lastResponseAt = performance.now();
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    if (status >= 200 && status < 300) latencies.push(responseTime);
    plan.onResponse?.();
  });
  let truncated = false;
  const cap =
    plan.amount !== undefined && plan.capSeconds !== undefined
      ? setTimeout(() => {
          truncated = true;
          instance.stop();
        }, plan.capSeconds * 1000)
      : undefined;
  const result = await instance;
  if (cap) clearTimeout(cap);
  latencies.sort((a, b) => a - b);
  const tokens = latencies.length;
  return {
    tokens,
    non2xx: Object.entries(statusCounts)
      .filter(([code]) => !code.startsWith('2'))
      .reduce((sum, [, n]) => sum + n, 0),
    errors: result.errors,
    statusCounts,
    seconds: Math.max(0.001, ((lastResponseAt || performance.now()) - startedAt) / 1000),
    latencies,
    truncated,
  };
}
