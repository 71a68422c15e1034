// Lints snippets with the repository's own ESLint config, through ESLint's Node API. A separate
// process because Jest cannot load the ESM config file (eslint.config.mjs) in its module system.
// The snippets are files no tsconfig lists, so type information is off for them (the import
// rules need none; every other rule of the config applies as it is).
// stdin: [{ file, code }]; stdout: for each, the rule ids and messages lint reported.
import { Buffer } from 'node:buffer';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [tseslint.configs.disableTypeChecked],
});
const out = [];
for (const { file, code } of cases) {
  const [result] = await eslint.lintText(code, { filePath: file });
  out.push(
    (result?.messages ?? []).map((m) => ({
      ruleId: m.ruleId,
      fatal: m.fatal ?? false,
      message: m.message,
    })),
  );
}
process.stdout.write(JSON.stringify(out));
