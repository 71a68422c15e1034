/** Closed loop, returning callers (Easy Auth, 1,000 principals, Zipf): cache off, cache on, soak. */
import { randomBytes } from 'node:crypto';
import type { HostProcess } from '../../dev/host/spawnHost';
import { RETURNING_CONCURRENCY, settings, startHost, type Bench } from '../lib/context';
import type { LoadPlan } from '../lib/load';
import { measure, warmHost, warmUp, type RowMeta } from '../lib/measure';
import { easyAuthEnv, returningShape, signIn, warmPrincipals } from '../lib/principals';
import { soakRun } from './soak';

export async function returningWorkload(
  bench: Bench,
  soak: boolean,
  returning: boolean,
): Promise<void> {
  const easyAuth = easyAuthEnv(bench);
  const plan: LoadPlan = {
    connections: RETURNING_CONCURRENCY,
    amount: settings.returningRequests,
    capSeconds: 180,
  };
  /** One returning row: warm the shape on another sequence, then measure the fixed one. */
  async function measureReturning(host: HostProcess, cookies: string[], meta: RowMeta) {
    const baseline = meta.impl === 'baseline';
    await warmUp(host, returningShape(cookies, settings.seed + 1, baseline), RETURNING_CONCURRENCY);
    await measure(bench, host, meta, returningShape(cookies, settings.seed, baseline), plan);
  }
  if (returning) {
    console.log('returning callers, cache off (easyauth)');
    const host = await startHost(bench, easyAuth);
    const cookies = await signIn(host, 'off');
    await warmPrincipals(bench, host, cookies, 'off');
    await warmHost(host, [
      returningShape(cookies, settings.seed + 1, false),
      returningShape(cookies, settings.seed + 1, true),
    ]);
    await measureReturning(host, cookies, { workload: 'returning', impl: 'ours', cache: 'off' });
    // The baseline ignores the principal, but it gets the very same request sequence.
    await measureReturning(host, cookies, { workload: 'returning', impl: 'baseline' });
    await host.stop();
  }

  console.log('returning callers, cache on (easyauth, TOKEN_CACHE_KEY set)');
  const host = await startHost(bench, {
    ...easyAuth,
    TOKEN_CACHE_KEY: randomBytes(32).toString('base64'),
  });
  const cookies = await signIn(host, 'on');
  await warmPrincipals(bench, host, cookies, 'on');
  await warmHost(host, [returningShape(cookies, settings.seed + 1, false)]);
  if (returning) {
    await measureReturning(host, cookies, { workload: 'returning', impl: 'ours', cache: 'on' });
  }
  if (soak) await soakRun(bench, host, cookies);
  await host.stop();
}
