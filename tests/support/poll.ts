import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `condition` holds, checking every `intervalMs`, instead of sleeping for a guessed
 * time and hoping. `limitMs` only bounds a test whose condition never comes true; it is not a
 * performance threshold (a slow machine just polls longer).
 */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  limitMs = 15_000,
  intervalMs = 20,
): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Samples `read` until two readings in a row differ by at most `tolerance` (at least three
 * readings, at most `maxSamples`), and returns the lowest: for a value the test cannot settle on
 * request, such as a child's resident memory between garbage collections.
 */
export async function steadyMinimum(
  read: () => number,
  tolerance: number,
  maxSamples = 25,
  intervalMs = 200,
): Promise<number> {
  const samples = [read()];
  for (;;) {
    const [previous, last] = samples.slice(-2);
    const steady =
      samples.length >= 3 &&
      previous !== undefined &&
      last !== undefined &&
      Math.abs(last - previous) <= tolerance;
    if (steady || samples.length >= maxSamples) return Math.min(...samples);
    await sleep(intervalMs);
    samples.push(read());
  }
}

/**
 * Calls `probe` until `done` holds for what it returns, and returns that. Past `limitMs` it
 * returns the last value instead of throwing, so that the test's own assertion says what came
 * back (a 503, a 429, a record missing).
 */
export async function pollUntil<T>(
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  limitMs = 15_000,
  intervalMs = 20,
): Promise<T> {
  const giveUpAt = Date.now() + limitMs;
  let value = await probe();
  while (!done(value) && Date.now() <= giveUpAt) {
    await sleep(intervalMs);
    value = await probe();
  }
  return value;
}

/** Calls `probe` until it resolves, and returns what it resolved with; past `limitMs`, its last error. */
export async function retryUntilResolved<T>(
  probe: () => Promise<T>,
  limitMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > giveUpAt) throw err;
      await sleep(intervalMs);
    }
  }
}
