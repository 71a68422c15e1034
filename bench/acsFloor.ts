/**
 * `node dist/bench/acsFloor.js <concurrency> <requests>`: the ACS leg alone. One long-lived SDK
 * client calls the emulator's createUserAndToken directly (no host, no HTTP in front), from its
 * own process, at the given concurrency. Its latency is the floor under any token service on
 * this machine right now: the injected latency plus the emulator's and the SDK's own CPU, plus
 * whatever waiting for a core costs while other work runs. Prints one JSON line.
 *
 * ACS_CONNECTION_STRING  the emulator's connection string (required)
 */
import { CommunicationIdentityClient } from '@azure/communication-identity';

async function main(): Promise<void> {
  const concurrency = Number(process.argv[2]);
  const requests = Number(process.argv[3]);
  const connectionString = process.env.ACS_CONNECTION_STRING ?? '';
  if (!(concurrency >= 1 && requests >= concurrency) || !connectionString) {
    console.error(
      'usage: ACS_CONNECTION_STRING=… node dist/bench/acsFloor.js <concurrency> <requests>',
    );
    process.exit(2);
  }
  const client = new CommunicationIdentityClient(connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  const call = () => client.createUserAndToken(['voip'], { tokenExpiresInMinutes: 60 });
  // Warm the pipeline and the keep-alive pool first, as a long-running service would have them.
  await Promise.all(Array.from({ length: concurrency }, call));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next += 1;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ seconds, latencies }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
