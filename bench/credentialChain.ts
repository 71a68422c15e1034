/**
 * `npm run bench:credential`: first-token time of the app's Entra ID credential, both ways, against
 * the local managed-identity endpoint (dev/identity), as App Service gives it to the app. Each
 * sample is a fresh Node process (nothing cached, modules loaded cold), run interleaved:
 *   ManagedIdentityCredential                      what the app uses (src/infra/azureCredential.ts)
 *   DefaultAzureCredential                         the whole chain
 *   DefaultAzureCredential + AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential   the chain restricted
 * Each process reports: loading @azure/identity, building the credential, and the first
 * getToken for ACS's scope. Prints medians (and min/max) of BENCH_CREDENTIAL_RUNS (default 15).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { startManagedIdentityEndpoint } from '../dev/identity';
import { startIssuer } from '../dev/issuer';

const projectRoot = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_CREDENTIAL_RUNS ?? 15);

const VARIANTS = {
  ManagedIdentityCredential: { make: 'new id.ManagedIdentityCredential()', env: {} },
  DefaultAzureCredential: { make: 'new id.DefaultAzureCredential()', env: {} },
  'DefaultAzureCredential (AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential)': {
    make: 'new id.DefaultAzureCredential()',
    env: { AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential' },
  },
} as const;

const probe = (make: string) => `
  const t0 = performance.now();
  const id = require('@azure/identity');
  const t1 = performance.now();
  const credential = ${make};
  const t2 = performance.now();
  credential.getToken('https://communication.azure.com//.default').then((token) => {
    const t3 = performance.now();
    if (!token.token) throw new Error('no token');
    console.log(JSON.stringify({ load: t1 - t0, build: t2 - t1, firstToken: t3 - t2, total: t3 }));
  });
`;

interface Sample {
  load: number;
  build: number;
  firstToken: number;
  total: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const issuer = await startIssuer({ port: 0 });
  const identity = await startManagedIdentityEndpoint({ signer: issuer });
  const samples = new Map<string, Sample[]>(Object.keys(VARIANTS).map((k) => [k, []]));
  try {
    for (let i = 0; i < RUNS; i += 1) {
      for (const [name, variant] of Object.entries(VARIANTS)) {
        // Asynchronous: the token service answers from this very process.
        const child = await run(process.execPath, ['-e', probe(variant.make)], {
          cwd: projectRoot,
          env: { PATH: process.env.PATH ?? '', ...identity.env(), ...variant.env },
          encoding: 'utf8',
          timeout: 60_000,
        });
        samples.get(name)?.push(JSON.parse(child.stdout) as Sample);
      }
    }
  } finally {
    await identity.close();
    await issuer.close();
  }
  const ms = (n: number) => n.toFixed(1).padStart(7);
  console.log(`Node ${process.version}, ${RUNS} fresh processes per credential, interleaved (ms):`);
  console.log(
    '| credential | load @azure/identity | build | first getToken | process start → token (min–max) |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, list] of samples) {
    const of = (k: keyof Sample) => median(list.map((s) => s[k]));
    const totals = list.map((s) => s.total);
    console.log(
      `| ${name} | ${ms(of('load'))} | ${ms(of('build'))} | ${ms(of('firstToken'))} | ${ms(of('total'))} (${Math.min(...totals).toFixed(0)}–${Math.max(...totals).toFixed(0)}) |`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
