/**
 * An empty Azure Functions v4 app: the cold-start baseline of `npm run bench` (issue #22). It
 * registers one function where the app's token route is (`POST /api/token`, function key) and
 * answers 200 `{}`, so the same probe measures spawn → first answer for both on the same host in
 * the same run; the ratio, not an absolute figure on shared cores, is the target.
 * Loaded alone with LOCAL_HOST_ENTRIES=dist/bench/emptyApp.js; never part of the package.
 */
import { app } from '@azure/functions';

app.http('token', {
  route: 'token',
  methods: ['POST'],
  authLevel: 'function',
  handler: () => ({ jsonBody: {} }),
});
