import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TOOLS } from './bicep';

/** What globalSetup.ts compiles, and how template.test.ts reads it. */

export const PARAMS = path.join(__dirname, 'params');
/** Parameter sets the template must refuse (its snapshot fails); see globalSetup.ts. */
export const REFUSED_PARAMS = path.join(PARAMS, 'refused');
export const COMPILED = path.join(TOOLS, 'compiled');

/** The deployment scope `bicep snapshot` predicts for (azd deploys at subscription scope). */
export const SNAPSHOT_SCOPE = {
  subscriptionId: '00000000-0000-0000-0000-0000000000a1',
  tenantId: '00000000-0000-0000-0000-0000000000b2',
  location: 'eastus2',
  deploymentName: 'infra-test',
};

export interface Step {
  name: string;
  command: string;
  /** Every line the compiler printed besides its output: errors, warnings, infos. */
  diagnostics: string[];
}

export interface CompileReport {
  version: string;
  bicep: string;
  sets: string[];
  steps: Step[];
  /** Refused set -> what the ARM engine said when it evaluated it. */
  refused: Record<string, string>;
}

export interface Resource {
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  location?: string;
  kind?: string;
  identity?: { type: string };
  tags?: Record<string, string>;
  properties?: Record<string, unknown>;
}

/** A deployment as the ARM engine predicts it; unknowable values stay `[expressions]`. */
export interface Snapshot {
  predictedResources: Resource[];
  diagnostics: unknown[];
  outputs: Record<string, unknown>;
}

export interface ArmTemplate {
  parameters: Record<string, { type: string; defaultValue?: unknown }>;
  resources: Record<string, unknown> | unknown[];
  outputs: Record<string, { type: string; value: unknown }>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

export const report = (): CompileReport => readJson(path.join(COMPILED, 'report.json'));
export const template = (): ArmTemplate => readJson(path.join(COMPILED, 'main.json'));
export const templateText = (): string => readFileSync(path.join(COMPILED, 'main.json'), 'utf8');
export const snapshotText = (set: string): string =>
  readFileSync(path.join(COMPILED, `${set}.snapshot.json`), 'utf8');
export const snapshot = (set: string): Snapshot => JSON.parse(snapshotText(set)) as Snapshot;

/** The only resource of `type` (whose name ends with `/name`, for child resources). */
export function only(deployment: Snapshot, type: string, name?: string): Resource {
  const found = deployment.predictedResources.filter(
    (r) =>
      r.type.toLowerCase() === type.toLowerCase() &&
      (name === undefined || r.name === name || r.name.endsWith(`/${name}`)),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
  }
  return found[0] as Resource;
}

export function ofType(deployment: Snapshot, type: string): Resource[] {
  return deployment.predictedResources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

/** A value ARM resolves only while deploying, e.g. "[reference(...).hostName]". */
export const isExpression = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith('[') && !value.startsWith('[[');
