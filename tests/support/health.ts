import { call, type Answer } from './http';

/**
 * `GET /api/health` until it answers 200, or the last answer after `attempts` tries. ACS
 * reachability is probed with a 2 s deadline and cached for 10 s, so on a starved CI machine one
 * slow probe can read as "unreachable" for a while: poll for the condition instead of failing
 * on the first answer. Tests then assert on the answer, whatever it is.
 */
export async function healthOnceReady(baseUrl: string, attempts = 60): Promise<Answer> {
  let answer = await call(`${baseUrl}/api/health`);
  for (let i = 1; i < attempts && answer.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    answer = await call(`${baseUrl}/api/health`);
  }
  return answer;
}
