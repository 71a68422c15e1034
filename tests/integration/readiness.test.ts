/**
 * `/api/health` means "a token request can succeed": in easyauth mode that needs the identity
 * map's table as well as ACS. (The ACS client and its credential module are checked from the
 * deployment package itself, in tests/package/package.test.ts.)
 */
import net from 'node:net';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { healthOnceReady } from '../support/health';
import { call } from '../support/http';
import { startLocalHost } from '../support/localHost';

let emulator: RunningEmulator;
let azurite: TestAzurite;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
});

afterAll(async () => {
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const easyAuthHost = (identityMap: string) =>
  startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    AUTH_MODE: 'easyauth',
    IDENTITY_MAP_CONNECTION: identityMap,
  });

describe('GET /api/health in easyauth mode', () => {
  it('is ready when ACS answers and the identity map opens', async () => {
    const host = await easyAuthHost(azurite.connectionString);
    try {
      const health = await healthOnceReady(host.url);
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({
        status: 'ready',
        checks: { acsClient: true, identityMap: true },
      });
    } finally {
      await host.stop();
    }
  }, 60_000);

  it('is not ready while the identity map cannot be reached, and says which check failed', async () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const port = await closedPort();
    const host = await easyAuthHost(
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`,
    );
    try {
      const health = await call(`${host.url}/api/health`);
      expect(health.status).toBe(503);
      expect(health.json).toMatchObject({
        status: 'degraded',
        checks: { acsClient: true, identityMap: false },
      });
      expect(health.text).not.toContain(String(port));
      expect(host.output()).toMatch(/"event":"not_ready","check":"identityMap"/);
    } finally {
      await host.stop();
    }
  }, 60_000);
});
