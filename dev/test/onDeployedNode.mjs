// `npm test` runs the suite on the Node.js major that Azure runs (package.json engines.node,
// "22.x"; infra deploys the same major). On another Node it re-runs itself on that major, which
// the npm registry serves as a package (`npx -y node@22`), so no system install is needed.
// Everything below then runs on that Node: npm, jest and its workers, and every child process
// the tests start (they use process.execPath), because its folder comes first on PATH.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(here), '..', '..');
const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines ?? {};
const match = /^(\d+)\.x$/.exec(engines.node ?? '');
if (!match) {
  console.error('package.json engines.node must name one major, like "22.x"');
  process.exit(1);
}
const deployed = Number(match[1]);
const running = Number(process.versions.node.split('.')[0]);
const command = process.argv.slice(2);
const windows = process.platform === 'win32';

function run(file, args, env) {
  const child = spawn(file, args, { stdio: 'inherit', env, shell: windows });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}

if (running !== deployed) {
  if (process.env.ACS_TEST_NODE_SWITCHED) {
    console.error(`npm test: expected Node ${deployed} after switching, got ${process.version}`);
    process.exit(1);
  }
  console.log(
    `npm test: Node ${process.version} is not the deployed major ${deployed}; running on node@${deployed} (npx)`,
  );
  run('npx', ['-y', `node@${deployed}`, here, ...command], {
    ...process.env,
    ACS_TEST_NODE_SWITCHED: '1',
  });
} else {
  console.log(
    `npm test: the suite runs on Node ${process.version} (deployed major ${deployed}, from package.json engines.node)`,
  );
  const env = {
    ...process.env,
    PATH: [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter),
  };
  const npmCli = process.env.npm_execpath;
  if (command[0] === 'npm' && npmCli && /\.c?js$/.test(npmCli)) {
    run(process.execPath, [npmCli, ...command.slice(1)], env);
  } else {
    run(command[0], command.slice(1), env);
  }
}
