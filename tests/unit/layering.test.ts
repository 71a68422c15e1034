import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

interface Message {
  ruleId: string | null;
  fatal: boolean;
  message: string;
}

/** What lint reports for each snippet, as if it were the file named, with the repo's config. */
function lint(cases: { file: string; code: string }[]): Message[][] {
  const run = spawnSync(process.execPath, [path.join(__dirname, '../support/lintText.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(cases.map((c) => ({ ...c, file: path.join(ROOT, c.file) }))),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`lint did not run: ${run.stderr}`);
  const results = JSON.parse(run.stdout) as Message[][];
  results.forEach((messages, i) => {
    const fatal = messages.find((m) => m.fatal);
    if (fatal) throw new Error(`lint could not read ${cases[i]?.file}: ${fatal.message}`);
  });
  return results;
}

const uses = (specifier: string) =>
  `import * as used from '${specifier}';\nexport const kept: unknown = used;\n`;

const REFUSED: [file: string, specifier: string][] = [
  ['src/domain/x.ts', '@azure/communication-identity'],
  ['src/domain/x.ts', '@azure/functions'],
  ['src/domain/x.ts', '../infra/acsIdentityGateway'],
  ['src/domain/x.ts', '../infra'],
  ['src/domain/x.ts', '../http/caller'],
  ['src/domain/x.ts', 'jose'],
  ['src/contracts/x.ts', '../infra/restError'],
  ['src/http/x.ts', '../runtime'],
  ['src/infra/x.ts', '../functions/token'],
  ['src/x.ts', '../dev/emulator'],
  ['src/functions/x.ts', '../../bench/lib/targets'],
];
const ALLOWED: [file: string, specifier: string][] = [
  ['src/domain/x.ts', './errors'],
  ['src/domain/x.ts', 'node:crypto'],
  ['src/contracts/x.ts', '../domain/errors'],
  ['src/infra/x.ts', '@azure/data-tables'],
  ['src/http/x.ts', '../infra/restError'],
  ['src/app.ts', './runtime'],
];
const TYPE_ONLY = {
  file: 'src/domain/x.ts',
  code: "import type { OidcVerifier } from '../infra/oidcVerifier';\nexport type V = OidcVerifier;\n",
};

const hits = (messages: Message[] | undefined) =>
  (messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);

describe('layering, enforced by lint', () => {
  const cases = [
    ...[...REFUSED, ...ALLOWED].map(([file, specifier]) => ({ file, code: uses(specifier) })),
    TYPE_ONLY,
  ];
  let results: Message[][] = [];
  beforeAll(() => {
    results = lint(cases);
  }, 120_000);

  it.each(REFUSED.map((c, i) => [...c, i] as const))(
    'refuses %s importing %s',
    (_file, _specifier, i) => {
      expect(hits(results[i])).toHaveLength(1);
    },
  );

  it.each(ALLOWED.map((c, i) => [...c, REFUSED.length + i] as const))(
    'allows %s importing %s',
    (_file, _specifier, i) => {
      expect(hits(results[i])).toEqual([]);
    },
  );

  it('refuses a type-only import across a layer too', () => {
    expect(hits(results[cases.length - 1])).toHaveLength(1);
  });
});
