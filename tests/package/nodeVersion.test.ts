import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { deployedNodeMajor } from '../../dev/package/bundle';

const major = (version: string) => Number(/^v?(\d+)/.exec(version.trim())?.[1]);

/**
 * The suite runs on the Node.js major Azure runs (package.json engines.node): `npm test` switches
 * to it (dev/test/onDeployedNode.mjs). Run alone with `npx jest` on another Node, this fails.
 */
describe('the Node.js the suite runs on', () => {
  const deployed = deployedNodeMajor(path.resolve(__dirname, '..', '..'));

  it('is the deployed major, in jest and in every child process it starts', () => {
    expect({ jest: major(process.version) }).toEqual({ jest: deployed });
    // The local host, the emulator and Azurite are started with process.execPath; npm scripts
    // and `#!/usr/bin/env node` tools find `node` on PATH.
    const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' });
    const onPath = execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' });
    expect({ child: major(child), onPath: major(onPath) }).toEqual({
      child: deployed,
      onPath: deployed,
    });
  });
});
