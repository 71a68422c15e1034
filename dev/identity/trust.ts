import { spawn } from 'node:child_process';

/**
 * Runs this same script again in a child process that trusts `caFile`, and ends with it.
 * NODE_EXTRA_CA_CERTS is read once, when Node starts (nodejs.org/api/cli.html#node_extra_ca_certsfile),
 * so a process that makes the certificate cannot trust it itself. The child has its own process
 * group: a Ctrl-C at the terminal reaches only this process, which passes each signal on once.
 */
export function rerunTrusting(caFile: string): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    stdio: 'inherit',
    detached: process.platform !== 'win32',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
