import type { Expectation, Seen } from './model';

/** The `worker` layer: what the Node worker cannot take from the host. Part of tests/support/hostileOracle.ts. */

/**
 * The Easy Auth stand-in drops client-sent principal headers; every other value reaches the
 * worker, whose `Headers` take Latin-1 only, so a value outside it is a bare 500.
 */
export function workerRefusal(seen: Seen): Expectation | undefined {
  const outsideLatin1 = [...seen.headers].some(
    ([name, value]) =>
      !name.startsWith('x-ms-client-principal') && [...value].some((c) => c.codePointAt(0)! > 0xff),
  );
  if (outsideLatin1) {
    return { layer: 'worker', status: 500, why: 'a header value outside Latin-1' };
  }
  return undefined;
}
