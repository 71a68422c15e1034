/**
 * Bench-only functions, loaded beside the app into the same local host process by `npm run bench`
 * (LOCAL_HOST_ENTRIES=<app>,dist/bench/baseline.js,dist/bench/floorFunctions.js). Never part of
 * the app or the package: .funcignore excludes dist/bench, and nothing in src/ imports this.
 *
 * - `POST /api/bench/empty` answers 200 `{}` and does nothing else: the floor of host CPU and
 *   latency per request that no implementation served by this host can beat.
 * - `GET /api/bench/cpu` (only with BENCH_ADMIN=1) answers this process's own
 *   `process.cpuUsage()` and `process.memoryUsage().rss`, the admin channel the bench reads the
 *   host's CPU per token from.
 */
import { app } from '@azure/functions';

app.http('benchEmpty', {
  route: 'bench/empty',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: () => ({ jsonBody: {} }),
});

if (process.env.BENCH_ADMIN === '1') {
  app.http('benchCpu', {
    route: 'bench/cpu',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: () => {
      const { user, system } = process.cpuUsage();
      return { jsonBody: { userUs: user, systemUs: system, rss: process.memoryUsage().rss } };
    },
  });
}
