import { call, type Answer } from './http';
import { pollUntil } from './poll';

/**
 * `GET /api/health` until it answers 200, or the last answer after `attempts` tries. ACS
 * reachability is probed with a 2 s deadline and cached for 10 s, so on a starved CI machine one
 * slow probe can read as "unreachable" for a while: poll for the condition instead of failing
 * on the first answer. Tests then assert on the answer, whatever it is.
 */
export function healthOnceReady(baseUrl: string, limitMs = 30_000): Promise<Answer> {
  return pollUntil(
    () => call(`${baseUrl}/api/health`),
    (answer) => answer.status === 200,
    limitMs,
    500,
  );
}
