import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';

/*
 * The pinned Bicep CLI for `npm run test:infra`, found or provisioned the way issue #16 asks:
 * a `bicep` on PATH of exactly this version, else the official NuGet package
 * (Azure.Bicep.CommandLine.<platform>) restored by `dotnet` into the ignored .tools/bicep/.
 * With neither, one line says how to get either. It never skips.
 */

/** The compiler the infra is checked with; raise it deliberately, then re-run test:infra. */
export const BICEP_VERSION = '0.49.2';

export const REPO = path.resolve(__dirname, '../..');
export const TOOLS = path.join(REPO, '.tools/bicep');
const PACKAGES = path.join(TOOLS, 'packages');
const RESTORE_PROJECT = path.join(__dirname, 'bicep-cli.csproj');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], cwd = REPO): Run {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // The CLI is a self-contained .NET app: no first-run banner, no telemetry, nothing else.
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  if (result.error && (result.error as NodeJS.ErrnoException).code !== 'ENOENT') {
    throw result.error;
  }
  return {
    status: result.error ? null : result.status,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
  };
}

/** NuGet's runtime identifier for this machine; the Bicep CLI ships one package per RID. */
function runtimeId(): string {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform as string];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch as string];
  if (!os || !arch) {
    throw new Error(`no Bicep CLI package for ${process.platform}-${process.arch}`);
  }
  return `${os}-${arch}`;
}

function versionOf(executable: string): string | undefined {
  const { status, stdout } = run(executable, ['--version']);
  return status === 0 ? /Bicep CLI version (\d+\.\d+\.\d+)/.exec(stdout)?.[1] : undefined;
}

/** Path of a Bicep CLI of BICEP_VERSION, restoring it from NuGet when needed. */
export function provisionBicep(): string {
  const onPath = versionOf('bicep');
  if (onPath === BICEP_VERSION) return 'bicep';

  const packageId = `Azure.Bicep.CommandLine.${runtimeId()}`;
  const executable = path.join(
    PACKAGES,
    packageId.toLowerCase(),
    BICEP_VERSION,
    'tools',
    process.platform === 'win32' ? 'bicep.exe' : 'bicep',
  );
  if (!existsSync(executable)) {
    const restore = run('dotnet', [
      'restore',
      RESTORE_PROJECT,
      '--packages',
      PACKAGES,
      `-p:BicepPackage=${packageId}`,
      `-p:BicepVersion=${BICEP_VERSION}`,
    ]);
    if (restore.status === null) {
      const found = onPath ? ` (the bicep on PATH is ${onPath})` : '';
      throw new Error(
        `npm run test:infra needs Bicep CLI ${BICEP_VERSION}: put bicep ${BICEP_VERSION} on PATH${found}, or install the .NET SDK so that dotnet can restore the NuGet package ${packageId}`,
      );
    }
    if (restore.status !== 0 || !existsSync(executable)) {
      throw new Error(
        `dotnet restore of ${packageId} ${BICEP_VERSION} failed:\n${restore.stdout}${restore.stderr}`,
      );
    }
  }
  // NuGet extraction does not always keep the executable bit.
  if (process.platform !== 'win32') chmodSync(executable, 0o755);
  const restored = versionOf(executable);
  if (restored !== BICEP_VERSION) {
    throw new Error(`${executable} reports version ${restored ?? 'unknown'}, not ${BICEP_VERSION}`);
  }
  return executable;
}
