import { objectEntries, paramDefault } from '../support/bicep';

// The reader behind infraSettings.test.ts: if it misreads Bicep, that test checks nothing.

describe('objectEntries', () => {
  it('reads the top-level keys of an object literal, quoted or not', () => {
    const source = [
      'var settings = {',
      "  PLAIN: 'a'",
      "  'quoted-key': 'b'",
      '  COMPUTED: string(limit)',
      '}',
    ].join('\n');
    expect(objectEntries(source, 'settings')).toEqual([
      { key: 'PLAIN', value: "'a'" },
      { key: 'quoted-key', value: "'b'" },
      { key: 'COMPUTED', value: 'string(limit)' },
    ]);
  });

  it('is not fooled by braces, colons and quotes in comments and strings', () => {
    const source = [
      '// var settings = { FAKE: 1 }',
      'var settings = {',
      '  /* HIDDEN: 1 } */',
      "  URL: 'https://${host}/x}' // TRAILING: 2 {",
      "  ESCAPED: 'it\\'s: { not a key }'",
      "  NESTED_STRING: '${concat('a}', '{b')}'",
      "  MULTI: '''",
      'LINE: } {',
      "'''",
      '}',
      'var other = { OTHER: 1 }',
    ].join('\n');
    expect(objectEntries(source, 'settings').map((entry) => entry.key)).toEqual([
      'URL',
      'ESCAPED',
      'NESTED_STRING',
      'MULTI',
    ]);
  });

  it('skips nested objects and reads every object of a union or conditional', () => {
    const source = [
      'var settings = union({',
      '  OUTER: {',
      '    INNER: true',
      '  }',
      "}, enabled ? { SECRET: secret, OTHER: 'x' } : {})",
      'output x string = settings.OUTER',
    ].join('\n');
    expect(objectEntries(source, 'settings').map((entry) => entry.key)).toEqual([
      'OUTER',
      'SECRET',
      'OTHER',
    ]);
  });

  it('refuses a key whose name is only known at deployment', () => {
    const source = "var settings = {\n  '${name}': value\n}";
    expect(() => objectEntries(source, 'settings')).toThrow(/computed key '\$\{name\}'/);
  });

  it('refuses a missing or repeated declaration', () => {
    expect(() => objectEntries('var a = {}', 'b')).toThrow('expected one `var b`, found 0');
    expect(() => objectEntries('var a = {}\nvar a = {}', 'a')).toThrow(
      'expected one `var a`, found 2',
    );
  });
});

describe('paramDefault', () => {
  const source = [
    "@description('A: b = c')",
    "param text string = 'voip'",
    '@minValue(1)',
    'param count int = 60',
    'param flag bool = false',
    'param required string',
    "param computed string = 'x${y}'",
  ].join('\n');

  it('reads string, number and boolean literals', () => {
    expect(paramDefault(source, 'text')).toBe('voip');
    expect(paramDefault(source, 'count')).toBe(60);
    expect(paramDefault(source, 'flag')).toBe(false);
  });

  it('returns undefined without a default and refuses computed ones', () => {
    expect(paramDefault(source, 'required')).toBeUndefined();
    expect(() => paramDefault(source, 'computed')).toThrow('is not a literal');
  });
});
