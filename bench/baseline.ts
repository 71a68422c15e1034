/**
 * The BASELINE, on purpose: the seed design from the ACS tutorial "Build a trusted user access
 * service using Azure Functions", kept only so `npm run bench` can measure the service against it
 * in the same run. It is never shipped (.funcignore excludes dist/bench) and must stay as naive as
 * the tutorial: a new client on every request, a new identity on every call, and two ACS round
 * trips (createUser, then getToken). No validation, no caller identity, no caching.
 *
 * Loaded beside the app with LOCAL_HOST_ENTRIES=<app entry>,dist/bench/baseline.js.
 */
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { app } from '@azure/functions';

/** The tutorial talks to a real (https) resource; here the emulator is plain http on loopback. */
function isLoopbackEmulator(connectionString: string): boolean {
  const endpoint = /endpoint=([^;]+)/i.exec(connectionString)?.[1] ?? '';
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

app.http('baselineToken', {
  route: 'baseline/token',
  methods: ['POST'],
  authLevel: 'function',
  handler: async () => {
    const connectionString = process.env.ACS_CONNECTION_STRING ?? '';
    const client = new CommunicationIdentityClient(connectionString, {
      allowInsecureConnection: isLoopbackEmulator(connectionString),
    });
    const user = await client.createUser();
    const token = await client.getToken(user, ['voip']);
    return {
      jsonBody: {
        user: { communicationUserId: user.communicationUserId },
        token: token.token,
        expiresOn: token.expiresOn,
      },
    };
  },
});
