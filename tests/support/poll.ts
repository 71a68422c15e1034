import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `condition` holds, checking every 20 ms, instead of sleeping for a guessed time
 * and hoping. `limitMs` only bounds a test whose condition never comes true; it is not a
 * performance threshold (a slow machine just polls longer).
 */
export async function eventually(
  what: string,
  condition: () => boolean | Promise<boolean>,
  limitMs = 15_000,
): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}
