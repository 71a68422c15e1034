import fc from 'fast-check';

/** A JSON Schema (draft 2020-12) node, as the OpenAPI document publishes it. */
export type JsonSchema = Record<string, unknown>;

/** Follows local `$ref`s (`#/components/schemas/X`) through the document. */
export function refResolver(document: Record<string, unknown>): (s: JsonSchema) => JsonSchema {
  return (schema) => {
    let node = schema;
    for (let hops = 0; typeof node.$ref === 'string'; hops++) {
      if (hops > 16) throw new Error(`$ref cycle at ${node.$ref}`);
      const pointer = node.$ref.replace(/^#\//, '').split('/');
      node = pointer.reduce<unknown>(
        (at, part) => (at as Record<string, unknown>)[part],
        document,
      ) as JsonSchema;
    }
    return node;
  };
}

/** Unconstrained strings stay short: long ones only cost time, the constrained ones matter. */
const FREE_STRING_MAX = 24;
const KEY = /^[a-z][a-zA-Z0-9]{0,11}$/;

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * Values a schema calls valid. It covers what this project's documents use: `type` (string,
 * integer, number, boolean, array, object), `enum`, `const`, `anyOf`/`oneOf`, `pattern`,
 * `format: date-time`, length and item bounds, `uniqueItems`, `minimum`/`maximum`, `required`
 * and `additionalProperties: false`. Anything else throws, so a new keyword is never ignored.
 */
export function validValue(schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema) {
  const s = resolve(schema);
  const known = new Set([
    'type',
    'enum',
    'const',
    'anyOf',
    'oneOf',
    'pattern',
    'format',
    'minLength',
    'maxLength',
    'minItems',
    'maxItems',
    'uniqueItems',
    'items',
    'minimum',
    'maximum',
    'properties',
    'required',
    'additionalProperties',
    'description',
  ]);
  const unknown = Object.keys(s).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`schemaArbitrary does not know ${unknown.join(', ')}`);
  return build(s, resolve);
}

function build(s: JsonSchema, resolve: (s: JsonSchema) => JsonSchema): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((a) => validValue(a, resolve)));
  switch (s.type) {
    case 'string': {
      const min = num(s.minLength) ?? 0;
      const max = num(s.maxLength) ?? Infinity;
      if (typeof s.pattern === 'string') {
        return fc
          .stringMatching(new RegExp(s.pattern))
          .filter((v) => v.length >= min && v.length <= max);
      }
      if (s.format === 'date-time')
        return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.string({
        minLength: min,
        maxLength: Math.max(min, Math.min(max, FREE_STRING_MAX)),
      });
    }
    case 'integer':
      return fc.integer({ min: num(s.minimum) ?? -1_000_000, max: num(s.maximum) ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: num(s.minimum) ?? -1e9,
        max: num(s.maximum) ?? 1e9,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = validValue(s.items as JsonSchema, resolve);
      const minLength = num(s.minItems) ?? 0;
      const maxLength = Math.max(minLength, Math.min(num(s.maxItems) ?? 4, 4));
      return s.uniqueItems === true
        ? fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
        : fc.array(item, { minLength, maxLength });
    }
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
      const record = Object.fromEntries(
        Object.entries(properties).map(([k, p]) => [k, validValue(p, resolve)]),
      );
      return fc.record(record, { requiredKeys: (s.required ?? []) as string[] });
    }
    default:
      throw new Error(`schemaArbitrary: no generator for type ${String(s.type)}`);
  }
}

/** A value of another JSON type than `type`. */
function otherType(type: unknown): fc.Arbitrary<unknown> {
  const all: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.string({ maxLength: 8 }),
    integer: fc.integer(),
    number: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
    boolean: fc.boolean(),
    null: fc.constant(null),
    array: fc.constant([]),
    object: fc.constant({}),
  };
  const others = Object.entries(all)
    .filter(([t]) => t !== type && !(type === 'number' && t === 'integer'))
    .map(([, a]) => a);
  return fc.oneof(...others);
}

/**
 * Values that break the schema in one way at a time (another type, outside the enum, outside a
 * bound, a repeated item, a missing required or an unknown property, one bad field or item).
 * Callers still check each against a validator: a mutation can land on a valid value by chance.
 */
export function invalidValue(
  schema: JsonSchema,
  resolve: (s: JsonSchema) => JsonSchema,
): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const ways: fc.Arbitrary<unknown>[] = [];
  if (typeof s.type === 'string') ways.push(otherType(s.type));
  if (Array.isArray(s.enum)) {
    const allowed = s.enum as unknown[];
    ways.push(fc.string({ maxLength: 12 }).filter((v) => !allowed.includes(v)));
  }
  if (s.type === 'string') {
    if (typeof s.pattern === 'string') {
      const re = new RegExp(s.pattern);
      ways.push(fc.string({ maxLength: FREE_STRING_MAX }).filter((v) => !re.test(v)));
    }
    const max = num(s.maxLength);
    if (max !== undefined) ways.push(fc.constant('x'.repeat(max + 1)));
    const min = num(s.minLength);
    if (min !== undefined && min > 0) ways.push(fc.constant(''));
  }
  if (s.type === 'integer' || s.type === 'number') {
    const min = num(s.minimum);
    const max = num(s.maximum);
    if (min !== undefined) ways.push(fc.integer({ min: min - 10_000, max: min - 1 }));
    if (max !== undefined) ways.push(fc.integer({ min: max + 1, max: max + 10_000 }));
    if (s.type === 'integer') {
      ways.push(
        fc
          .double({ min: min ?? -1e6, max: max ?? 1e6, noNaN: true })
          .filter((n) => !Number.isInteger(n)),
      );
    }
  }
  if (s.type === 'array') {
    const items = s.items as JsonSchema;
    const valid = validValue(s, resolve) as fc.Arbitrary<unknown[]>;
    const minItems = num(s.minItems) ?? 0;
    if (minItems > 0) ways.push(fc.constant([]));
    if (s.uniqueItems === true) {
      ways.push(valid.filter((a) => a.length > 0).map((a) => [...a, a[0]]));
    }
    ways.push(
      fc.tuple(valid, invalidValue(items, resolve), fc.nat()).map(([a, bad, at]) => {
        const copy = [...a];
        copy.splice(at % (copy.length + 1), 0, bad);
        return copy;
      }),
    );
  }
  if (s.type === 'object') {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const valid = validValue(s, resolve) as fc.Arbitrary<Record<string, unknown>>;
    if (s.additionalProperties === false) {
      ways.push(
        fc
          .tuple(
            valid,
            fc.stringMatching(KEY).filter((k) => !(k in properties)),
            fc.jsonValue(),
          )
          .map(([o, k, v]) => ({ ...o, [k]: v })),
      );
    }
    for (const key of (s.required ?? []) as string[]) {
      ways.push(
        valid.map((o) => {
          const { [key]: _dropped, ...rest } = o;
          return rest;
        }),
      );
    }
    for (const [key, property] of Object.entries(properties)) {
      ways.push(
        fc.tuple(valid, invalidValue(property, resolve)).map(([o, bad]) => ({ ...o, [key]: bad })),
      );
    }
  }
  if (ways.length === 0) throw new Error('schemaArbitrary: nothing to break in this schema');
  return fc.oneof(...ways);
}
