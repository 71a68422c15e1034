import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HealthSchema } from '../../src/contracts/problem';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/domain/errors';

const ROOT = path.join(__dirname, '..', '..');
const apiDoc = readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');

/** The body of the section under `heading` (up to the next heading of the same level). */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/api.md has no section ${heading}`);
  const level = /^#+/.exec(heading)?.[0] ?? '##';
  const next = markdown.indexOf(`\n${level} `, start + heading.length + 2);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** Each code of the errors table with the status its row gives. */
function documentedStatuses(): Map<string, number[]> {
  const table = new Map<string, number[]>();
  for (const line of section(apiDoc, '## Errors').split('\n')) {
    const [, status, codes] = line.split('|').map((cell) => cell.trim());
    if (!status || !/^\d{3}$/.test(status)) continue;
    for (const [, code] of (codes ?? '').matchAll(/`([a-z_]+)`/g)) {
      table.set(code ?? '', [...(table.get(code ?? '') ?? []), Number(status)]);
    }
  }
  return table;
}

describe('docs/api.md', () => {
  it('documents every code of the error catalogue, at its status', () => {
    const documented = documentedStatuses();
    const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
    expect(codes.map((code) => ({ code, statuses: documented.get(code) ?? [] }))).toEqual(
      codes.map((code) => ({ code, statuses: [ERROR_CATALOGUE[code].status] })),
    );
  });

  it('documents no code the catalogue lacks', () => {
    const unknown = [...documentedStatuses().keys()].filter((code) => !(code in ERROR_CATALOGUE));
    expect(unknown).toEqual([]);
  });

  it("shows a health answer that is the health route's schema, throttled and checks included", () => {
    const health = section(apiDoc, '## `GET /api/health` (anonymous)');
    const examples = [...health.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) {
      const parsed = HealthSchema.safeParse(JSON.parse(example));
      expect({ example, issues: parsed.error?.issues ?? [] }).toEqual({ example, issues: [] });
    }
    expect(health).toContain('throttled');
    expect(health).toContain('checks');
  });
});

describe('the docs', () => {
  it('cite no file outside the repository (shared/reference is not in it)', () => {
    const docs = [
      'README.md',
      ...readdirSync(path.join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const citing = docs.filter((file) =>
      /shared\/reference/.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
    expect(citing).toEqual([]);
  });
});
