export interface Reachability {
  reachable: boolean;
  latencyMs: number;
  checkedAt: string;
}

/**
 * Answers "can we reach ACS?" without spending an ACS operation: any HTTP answer from the
 * endpoint counts. Results are cached so an anonymous health endpoint cannot be used to make
 * the service hammer ACS.
 */
export class AcsReachability {
  private last: { at: number; result: Promise<Reachability> } | undefined;

  constructor(
    private readonly endpoint: URL,
    private readonly platform: { now: () => number; fetch: typeof fetch } = {
      now: Date.now,
      fetch: (input, init) => fetch(input, init),
    },
    private readonly timeoutMs = 2_000,
    private readonly cacheMs = 10_000,
  ) {}

  check(): Promise<Reachability> {
    const now = this.platform.now();
    if (!this.last || now - this.last.at >= this.cacheMs) {
      this.last = { at: now, result: this.probe() };
    }
    return this.last.result;
  }

  private async probe(): Promise<Reachability> {
    const started = performance.now();
    let reachable = true;
    try {
      const res = await this.platform.fetch(this.endpoint, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
    } catch {
      reachable = false;
    }
    return {
      reachable,
      latencyMs: Math.round(performance.now() - started),
      checkedAt: new Date(this.platform.now()).toISOString(),
    };
  }
}
