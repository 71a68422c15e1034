import { LOCAL_HOST_READY, spawnHost, type HostProcess } from '../../dev/host/spawnHost';
import { ChildExitedError } from '../../dev/spawnReady';

export interface LocalHostProcess extends HostProcess {
  key: string;
  /** Secrets this host's logs must never contain, beyond the ones it knows itself. */
  secrets: Set<string>;
}

export const TEST_FUNCTION_KEY = 'test-function-key-0123456789';

/**
 * The built local host on a free port with only the settings a test gives it; stopping it
 * audits its logs for leaked secrets.
 */
export async function startLocalHost(env: Record<string, string>): Promise<LocalHostProcess> {
  const key = env.FUNCTIONS_DEV_KEY ?? TEST_FUNCTION_KEY;
  const host = await spawnHost({ FUNCTIONS_DEV_KEY: key, ...env });
  const secrets = new Set<string>([key, ...secretsIn(env)]);
  return {
    ...host,
    key,
    secrets,
    async stop() {
      await host.stop();
      auditLogs(host.output(), secrets);
    },
  };
}

/** Access keys and account keys inside the connection strings a host was given. */
function secretsIn(env: Record<string, string>): string[] {
  return Object.values(env).flatMap((value) =>
    [...value.matchAll(/(?:accesskey|accountkey)=([^;]+)/gi)]
      .map((m) => m[1] ?? '')
      .filter(Boolean),
  );
}

/**
 * Every integration suite that starts a host ends here: the service's own log lines (everything
 * after the start-up banner, which prints the dev key on purpose) must hold no token, key,
 * session cookie or principal header. The error names what leaked, never the secret itself.
 */
export function auditLogs(output: string, secrets: Iterable<string>): void {
  const readyAt = output.search(LOCAL_HOST_READY);
  if (readyAt < 0) {
    // Without the anchor the audit would read the last character only, and pass on anything.
    throw new Error(`host output has no ready line (${String(LOCAL_HOST_READY)}) to audit from`);
  }
  const logs = output.slice(readyAt);
  const leaks: string[] = [];
  if (/eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(logs)) leaks.push('a JWT');
  if (/AppServiceAuthSession=(?!\[redacted\])[^;\s"]+/.test(logs)) leaks.push('a session cookie');
  if (/x-ms-client-principal[\w-]*"?\s*[:=]\s*"?(?!\[redacted)/i.test(logs))
    leaks.push('a principal header');
  let index = 0;
  for (const secret of secrets) {
    index += 1;
    if (secret.length >= 8 && logs.includes(secret)) leaks.push(`secret #${index}`);
  }
  if (leaks.length > 0) throw new Error(`host logs leaked ${leaks.join(', ')}`);
}

/** Runs the host expecting it to refuse to start; resolves with its exit code and output. */
export async function runHostExpectingFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  try {
    await (await spawnHost(env)).stop();
  } catch (err) {
    if (err instanceof ChildExitedError) return { code: err.code, output: err.output };
    throw err;
  }
  throw new Error('the host started although it was expected to refuse');
}
