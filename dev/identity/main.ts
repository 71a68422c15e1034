/**
 * `node dist/dev/identity/main.js`: the managed-identity world of dev/identity/stack.ts as one
 * process, for tests and for trying the SDK by hand (throw-away state, free ports). Prints one
 * JSON line starting `MI stack ready ` with the endpoints and the platform's environment, and
 * stops on SIGINT / SIGTERM. `MI_STACK_AZURITE=0` leaves Azurite out.
 */
import path from 'node:path';
import { startManagedIdentityStack } from './stack';

async function main(): Promise<void> {
  const stack = await startManagedIdentityStack({
    projectRoot: path.resolve(__dirname, '..', '..', '..'),
    azurite: process.env.MI_STACK_AZURITE !== '0',
  });
  const facts = {
    acsEndpoint: stack.acsEndpoint,
    emulatorUrl: stack.emulator.url,
    connectionString: stack.emulator.connectionString,
    tableEndpoint: stack.tableEndpoint,
    issuerUrl: stack.issuer.url,
    tenantId: stack.identity.tenantId,
    entraIssuer: stack.identity.issuer,
    systemAssigned: stack.identity.systemAssigned,
    identityHeader: stack.identity.identityHeader,
    caFile: stack.certificate.caFile,
    platformEnv: stack.platformEnv,
  };
  console.log(`MI stack ready ${JSON.stringify(facts)}`);
  const stop = (): void => void stack.dispose().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`mi-stack: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
