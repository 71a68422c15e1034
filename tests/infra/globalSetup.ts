import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BICEP_VERSION, REPO, provisionBicep, run } from './bicep';
import {
  COMPILED,
  PARAMS,
  REFUSED_PARAMS,
  SNAPSHOT_SCOPE,
  type CompileReport,
  type Step,
} from './compiled';

/*
 * Runs once before the infra tests: provisions the pinned Bicep CLI, then
 *   bicep build infra/main.bicep         -> the ARM template azd deploys
 *   bicep lint infra/main.bicep          -> the linter, with bicepconfig.json
 *   bicep build-params <set>.bicepparam  -> each parameter set against that template
 *   bicep snapshot <set>.bicepparam      -> the deployment the ARM engine predicts from the
 *                                           compiled template and that set: every module
 *                                           expanded, every condition and parameter resolved
 * A command that fails (a compile error) stops the run here; diagnostics of a command that
 * succeeds are recorded in report.json for template.test.ts to hold at zero.
 *
 * Each set in params/refused/ is one the template must refuse: it compiles (build-params, 0
 * diagnostics), and its snapshot, where the ARM engine evaluates the template as a deployment
 * would, must fail. What the engine said is recorded for template.test.ts to read.
 */

function step(bicep: string, name: string, args: string[]): { step: Step; stdout: string } {
  const result = run(bicep, args);
  const said = `${result.stderr}\n${name === 'lint' ? result.stdout : ''}`;
  const diagnostics = said
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (result.status !== 0) {
    throw new Error(`bicep ${args.join(' ')} failed (exit ${result.status}):\n${said}`);
  }
  return { step: { name, command: `bicep ${args.join(' ')}`, diagnostics }, stdout: result.stdout };
}

function listSets(folder: string): string[] {
  return readdirSync(folder)
    .filter((file) => file.endsWith('.bicepparam'))
    .map((file) => file.replace(/\.bicepparam$/, ''));
}

export default function globalSetup(): void {
  const bicep = provisionBicep();
  rmSync(COMPILED, { recursive: true, force: true });
  mkdirSync(COMPILED, { recursive: true });
  const steps: Step[] = [];
  const rel = (file: string) => path.relative(REPO, file);

  const build = step(bicep, 'build', ['build', 'infra/main.bicep', '--stdout']);
  writeFileSync(path.join(COMPILED, 'main.json'), build.stdout);
  steps.push(build.step);
  steps.push(step(bicep, 'lint', ['lint', 'infra/main.bicep']).step);

  const sets = listSets(PARAMS);
  const snapshotArgs = (file: string) => [
    'snapshot',
    rel(file),
    '--mode',
    'overwrite',
    '--subscription-id',
    SNAPSHOT_SCOPE.subscriptionId,
    '--tenant-id',
    SNAPSHOT_SCOPE.tenantId,
    '--location',
    SNAPSHOT_SCOPE.location,
    '--deployment-name',
    SNAPSHOT_SCOPE.deploymentName,
  ];
  for (const set of sets) {
    const file = path.join(PARAMS, `${set}.bicepparam`);
    const params = step(bicep, `build-params ${set}`, ['build-params', rel(file), '--stdout']);
    writeFileSync(path.join(COMPILED, `${set}.build-params.json`), params.stdout);
    steps.push(params.step);
    // snapshot writes <set>.snapshot.json beside the .bicepparam file; it is moved out at once.
    const written = path.join(PARAMS, `${set}.snapshot.json`);
    rmSync(written, { force: true });
    const snapshot = step(bicep, `snapshot ${set}`, snapshotArgs(file));
    renameSync(written, path.join(COMPILED, `${set}.snapshot.json`));
    steps.push(snapshot.step);
  }

  const refused: Record<string, string> = {};
  for (const set of listSets(REFUSED_PARAMS)) {
    const file = path.join(REFUSED_PARAMS, `${set}.bicepparam`);
    steps.push(
      step(bicep, `build-params refused/${set}`, ['build-params', rel(file), '--stdout']).step,
    );
    const result = run(bicep, snapshotArgs(file));
    rmSync(path.join(REFUSED_PARAMS, `${set}.snapshot.json`), { force: true });
    if (result.status === 0) {
      throw new Error(`bicep snapshot of refused/${set} succeeded; the template must refuse it`);
    }
    refused[set] = `${result.stdout}${result.stderr}`.trim();
  }

  const report: CompileReport = { version: BICEP_VERSION, bicep, sets, steps, refused };
  writeFileSync(path.join(COMPILED, 'report.json'), JSON.stringify(report, null, 2));
  console.warn(`infra: Bicep CLI ${BICEP_VERSION} (${bicep}); compiled ${sets.length} sets`);
}
