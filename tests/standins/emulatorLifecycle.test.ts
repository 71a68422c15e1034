import { startEmulator } from '../../dev/emulator';
import { eventually } from '../support/poll';
import { failure, sdk } from '../support/emulatorSuite';

describe('ACS emulator lifecycle', () => {
  it('closes promptly with keep-alive connections and requests in flight', async () => {
    const other = await startEmulator();
    const client = sdk(other.connectionString);
    await client.createUser(); // leaves a keep-alive socket open
    // In flight for longer than the test may run: close() must not wait for it.
    other.setFaults({ latencyMs: 10 * 60_000 });
    const pending = failure(client.createUser());
    await eventually('the second request to reach the emulator', () => {
      return other.counts().createUser === 2;
    });
    await other.close();
    expect((await pending).code).toBe('ECONNRESET');
    expect(other.identities()).toHaveLength(1);
  });

  it('derives a stable resource id from its access key', async () => {
    const accessKey = Buffer.alloc(32, 7).toString('base64');
    const first = await startEmulator({ accessKey });
    const again = await startEmulator({ accessKey });
    const other = await startEmulator({ accessKey: Buffer.alloc(32, 8).toString('base64') });
    try {
      expect(first.resourceId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      expect(again.resourceId).toBe(first.resourceId);
      expect(other.resourceId).not.toBe(first.resourceId);
    } finally {
      await Promise.all([first.close(), again.close(), other.close()]);
    }
  });

  it('refuses an access key that is not base64', async () => {
    await expect(startEmulator({ accessKey: 'not base64!' })).rejects.toThrow(
      'The access key must be a non-empty, standard base64 string.',
    );
  });
});
