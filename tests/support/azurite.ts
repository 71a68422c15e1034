import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';

export interface TestAzurite extends RunningAzurite {
  location: string;
  /** Stops Azurite and deletes its data. */
  dispose(): Promise<void>;
}

/** A private Azurite (Table service) for one test file, with its data in a temporary folder. */
export async function startTestAzurite(
  location?: string,
  port?: number,
  oauth?: { certFile: string; keyFile: string },
): Promise<TestAzurite> {
  const dir = location ?? mkdtempSync(path.join(os.tmpdir(), 'acs-azurite-'));
  const azurite = await startAzurite({
    projectRoot: path.resolve(__dirname, '..', '..'),
    location: dir,
    ...(port ? { port } : {}),
    ...(oauth ? { oauth } : {}),
  });
  return {
    ...azurite,
    location: dir,
    async dispose() {
      await azurite.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
