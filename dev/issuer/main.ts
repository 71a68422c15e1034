/**
 * Standalone local OpenID Connect issuer: `node dist/dev/issuer/main.js` (`npm run issuer`).
 *
 * ISSUER_PORT  port on 127.0.0.1 (default 7080; 0 picks a free one)
 */
import { startIssuer } from './server';

async function main(): Promise<void> {
  const raw = process.env.ISSUER_PORT?.trim() || '7080';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    console.error(`local-issuer: ISSUER_PORT must be an integer from 0 to 65535 (got '${raw}')`);
    process.exit(1);
  }
  const issuer = await startIssuer({ port });
  console.log(`Discovery: ${issuer.url}/.well-known/openid-configuration`);
  console.log(
    `Mint: curl -s -X POST ${issuer.url}/dev/token -H 'content-type: application/json' -d '{"sub":"alice","roles":["member"]}'`,
  );
  console.log(`Issuer ready at ${issuer.url}`);
  const stop = (): void => void issuer.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`local-issuer: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
