/**
 * Just enough of a Bicep reader for tests that hold infra/ to the app's own contracts (the bicep
 * CLI is not available here, so the files are read as text).
 *
 * It tokenizes the whole file first, so that braces, colons and quotes inside comments
 * (`//`, `/* *\/`) and strings (`'…'` with `\'` escapes and `${…}` interpolation, `'''…'''`) never
 * count as structure. On that token stream it answers two questions:
 *
 * - `objectEntries(source, 'x')`: the top-level `key: value` pairs of every object literal that
 *   `var x = …` is built from. `var x = {…}`, `var x = cond ? {…} : {}` and
 *   `var x = union({…}, {…})` all work; objects nested inside those objects are values, not
 *   entries. Keys are identifiers or quoted strings; an interpolated key (`'${name}'`) throws,
 *   because its name is only known at deployment.
 * - `paramDefault(source, 'p')`: the literal default of `param p <type> = <literal>`.
 *
 * Bicep ends a declaration at a newline outside brackets, and separates object properties by
 * newlines or commas; both rules are what the reader relies on.
 */

type TokenKind = 'identifier' | 'number' | 'string' | 'newline' | 'punctuation' | 'end';

interface Token {
  kind: TokenKind;
  /** The source text of the token (strings include their quotes). */
  text: string;
  /** A string's content when it has no interpolation. */
  value?: string;
  interpolated?: boolean;
  start: number;
  end: number;
}

export interface BicepEntry {
  key: string;
  /** The value's source text, from its first token to its last. */
  value: string;
}

const OPENERS = new Set(['{', '[', '(']);
const CLOSERS = new Set(['}', ']', ')']);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;

  // Returns the index just past the `}` that closes an interpolation opened before `from`.
  const skipInterpolation = (from: number): number => {
    let depth = 1;
    let j = from;
    while (j < source.length) {
      const c = source[j];
      if (c === "'") {
        j = readString(j).end;
        continue;
      }
      if (c === '{') depth++;
      if (c === '}' && --depth === 0) return j + 1;
      j++;
    }
    throw new Error(`unterminated interpolation at offset ${from}`);
  };

  const readString = (from: number): Token => {
    if (source.startsWith("'''", from)) {
      const close = source.indexOf("'''", from + 3);
      if (close < 0) throw new Error(`unterminated multi-line string at offset ${from}`);
      const end = close + 3;
      return {
        kind: 'string',
        text: source.slice(from, end),
        value: source.slice(from + 3, close),
        interpolated: false,
        start: from,
        end,
      };
    }
    let j = from + 1;
    let value = '';
    let interpolated = false;
    while (j < source.length) {
      const c = source[j];
      if (c === '\\') {
        value += source[j + 1] ?? '';
        j += 2;
        continue;
      }
      if (c === '$' && source[j + 1] === '{') {
        interpolated = true;
        j = skipInterpolation(j + 2);
        continue;
      }
      if (c === "'") {
        const end = j + 1;
        return {
          kind: 'string',
          text: source.slice(from, end),
          ...(interpolated ? {} : { value }),
          interpolated,
          start: from,
          end,
        };
      }
      if (c === '\n') break;
      value += c;
      j++;
    }
    throw new Error(`unterminated string at offset ${from}`);
  };

  while (i < source.length) {
    const c = source[i] ?? '';
    if (c === '\n') {
      tokens.push({ kind: 'newline', text: c, start: i, end: i + 1 });
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (source.startsWith('//', i)) {
      const eol = source.indexOf('\n', i);
      i = eol < 0 ? source.length : eol;
    } else if (source.startsWith('/*', i)) {
      const close = source.indexOf('*/', i + 2);
      if (close < 0) throw new Error(`unterminated comment at offset ${i}`);
      i = close + 2;
    } else if (c === "'") {
      const token = readString(i);
      tokens.push(token);
      i = token.end;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'identifier', text: match[0], start: i, end: i + match[0].length });
      i += match[0].length;
    } else if (/[0-9]/.test(c)) {
      const match = /^[0-9]+/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: match[0], start: i, end: i + match[0].length });
      i += match[0].length;
    } else {
      tokens.push({ kind: 'punctuation', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  tokens.push({ kind: 'end', text: '', start: source.length, end: source.length });
  return tokens;
}

class Cursor {
  constructor(
    private readonly source: string,
    readonly tokens: Token[],
  ) {}

  at(index: number): Token {
    return this.tokens[Math.min(index, this.tokens.length - 1)] as Token;
  }

  is(index: number, text: string): boolean {
    const token = this.at(index);
    return token.kind !== 'string' && token.text === text;
  }

  slice(from: Token, to: Token): string {
    return this.source.slice(from.start, to.end).trim();
  }

  /** Index of the token after the bracket that closes the one at `open`. */
  skipBracketed(open: number): number {
    let depth = 0;
    for (let k = open; ; k++) {
      const token = this.at(k);
      if (token.kind === 'end') throw new Error('unbalanced brackets');
      if (token.kind !== 'punctuation') continue;
      if (OPENERS.has(token.text)) depth++;
      if (CLOSERS.has(token.text) && --depth === 0) return k + 1;
    }
  }

  /**
   * Index of the first token at or after `from` that ends an expression: a newline, comma or
   * closing bracket outside any bracket the expression itself opened.
   */
  expressionEnd(from: number): number {
    let k = from;
    for (;;) {
      const token = this.at(k);
      if (token.kind === 'end' || token.kind === 'newline') return k;
      if (token.kind === 'punctuation') {
        if (token.text === ',' || CLOSERS.has(token.text)) return k;
        if (OPENERS.has(token.text)) {
          k = this.skipBracketed(k);
          continue;
        }
      }
      k++;
    }
  }

  /** Index just past the declaration `<keyword> <name> …` (a newline outside brackets). */
  declaration(keyword: string, name: string): number {
    const found: number[] = [];
    this.tokens.forEach((_token, k) => {
      const atLineStart = k === 0 || this.at(k - 1).kind === 'newline';
      if (atLineStart && this.is(k, keyword) && this.is(k + 1, name)) found.push(k);
    });
    if (found.length !== 1) {
      throw new Error(`expected one \`${keyword} ${name}\`, found ${found.length}`);
    }
    return found[0] as number;
  }
}

function readObject(cursor: Cursor, open: number): { entries: BicepEntry[]; next: number } {
  const entries: BicepEntry[] = [];
  let k = open + 1;
  for (;;) {
    const token = cursor.at(k);
    if (token.kind === 'newline' || cursor.is(k, ',')) {
      k++;
      continue;
    }
    if (cursor.is(k, '}')) return { entries, next: k + 1 };
    const keyed = (token.kind === 'identifier' || token.kind === 'string') && cursor.is(k + 1, ':');
    if (!keyed) throw new Error(`expected \`key: value\` in an object, found "${token.text}"`);
    if (token.kind === 'string' && token.interpolated) {
      throw new Error(`computed key ${token.text}: its name is only known at deployment`);
    }
    const valueStart = k + 2;
    const valueEnd = cursor.expressionEnd(valueStart);
    if (valueEnd === valueStart) throw new Error(`no value for key "${token.text}"`);
    entries.push({
      key: token.kind === 'string' ? (token.value as string) : token.text,
      value: cursor.slice(cursor.at(valueStart), cursor.at(valueEnd - 1)),
    });
    k = valueEnd;
  }
}

/** The top-level entries of every object literal `var <name> = …` is built from, in order. */
export function objectEntries(source: string, name: string): BicepEntry[] {
  const cursor = new Cursor(source, tokenize(source));
  const declaration = cursor.declaration('var', name);
  if (!cursor.is(declaration + 2, '=')) throw new Error(`\`var ${name}\` has no \`=\``);
  const entries: BicepEntry[] = [];
  let k = declaration + 3;
  let depth = 0;
  for (;;) {
    const token = cursor.at(k);
    if (token.kind === 'end' || (token.kind === 'newline' && depth === 0)) break;
    if (cursor.is(k, '{')) {
      const object = readObject(cursor, k);
      entries.push(...object.entries);
      k = object.next;
      continue;
    }
    if (token.kind === 'punctuation' && OPENERS.has(token.text)) depth++;
    if (token.kind === 'punctuation' && CLOSERS.has(token.text)) depth--;
    k++;
  }
  return entries;
}

/** The literal default of `param <name> <type> = <literal>`; undefined when it has none. */
export function paramDefault(source: string, name: string): string | number | boolean | undefined {
  const cursor = new Cursor(source, tokenize(source));
  const declaration = cursor.declaration('param', name);
  if (!cursor.is(declaration + 3, '=')) return undefined;
  const valueStart = declaration + 4;
  const valueEnd = cursor.expressionEnd(valueStart);
  const token = cursor.at(valueStart);
  if (valueEnd !== valueStart + 1) {
    throw new Error(`param ${name}: default is not a single literal`);
  }
  if (token.kind === 'string' && !token.interpolated) return token.value ?? '';
  if (token.kind === 'number') return Number(token.text);
  if (token.kind === 'identifier' && (token.text === 'true' || token.text === 'false')) {
    return token.text === 'true';
  }
  throw new Error(`param ${name}: default ${token.text} is not a literal`);
}
