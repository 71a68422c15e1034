/**
 * The KQL queries in docs/operations.md read what the app and the platform really write: every
 * app field a query reads (`r.<field>`, or a `"field":value` it searches the message for) is in
 * the records of real requests through the local host, and every column it reads exists in the
 * Application Insights table it queries. host.json keeps 4xx/5xx invocations in `requests`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { call } from '../support/http';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';
import { pollUntil } from '../support/poll';

const root = path.resolve(__dirname, '..', '..');

/**
 * Columns of the classic Application Insights tables the queries may read (Azure Monitor
 * reference, "requests" and "traces": learn.microsoft.com/azure/azure-monitor/reference/tables/
 * apprequests and apptraces, in their Application Insights names).
 */
const TABLE_COLUMNS: Record<string, string[]> = {
  requests: [
    'timestamp',
    'id',
    'name',
    'url',
    'success',
    'resultCode',
    'duration',
    'operation_Id',
    'operation_Name',
    'cloud_RoleInstance',
    'customDimensions',
  ],
  traces: [
    'timestamp',
    'message',
    'severityLevel',
    'operation_Id',
    'operation_Name',
    'cloud_RoleInstance',
    'customDimensions',
  ],
};

/** KQL words the documented queries use; anything else must be a column or a name they define. */
const KQL_WORDS = new Set(
  (
    'where extend summarize project order by desc asc and or not in has startswith ' +
    'ago bin count avg percentile tostring toint parse_json h d m'
  ).split(' '),
);

interface Query {
  table: string;
  text: string;
}

function documentedQueries(): Query[] {
  const doc = readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');
  return [...doc.matchAll(/```kusto\n([\s\S]*?)```/g)].map((m) => {
    const text = (m[1] ?? '').replace(/\/\/.*$/gm, '').trim();
    return { table: /^\w+/.exec(text)?.[0] ?? '', text };
  });
}

/** The app fields a query reads: `r.field`, and `"field":value` pairs it searches for. */
function appFieldsOf(query: Query) {
  const read = [...query.text.matchAll(/\br\.(\w+)/g)].map((m) => m[1] ?? '');
  const searched = [...query.text.matchAll(/"(\w+)":(true|false|\d+|"[^"]*")/g)].map((m) => ({
    field: m[1] ?? '',
    value: JSON.parse(m[2] ?? 'null') as unknown,
  }));
  return { read, searched };
}

/** The platform columns a query reads: what is left once KQL words, literals and names go. */
function columnsOf(query: Query): string[] {
  const bare = query.text
    .replace(/'[^']*'|"[^"]*"/g, ' ')
    .replace(/\br\.\w+/g, ' ')
    .replace(/\b\d+\w*\b/g, ' ');
  const defined = new Set([...bare.matchAll(/\b(\w+)\s*=(?!=)/g)].map((m) => m[1] ?? ''));
  const words = [...bare.matchAll(/\b[A-Za-z_]\w*\b/g)].map((m) => m[0]);
  return [
    ...new Set(words.filter((w) => w !== query.table && !KQL_WORDS.has(w) && !defined.has(w))),
  ];
}

let emulator: RunningEmulator;
let host: LocalHostProcess;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  host = await startLocalHost({ ACS_CONNECTION_STRING: emulator.connectionString });
});

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

/** The app's records in the host's output, as the message Application Insights would store. */
function appRecords(output: string): Record<string, unknown>[] {
  const hostKeys = new Set(['time', 'level', 'function', 'invocationId', 'message']);
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"time"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => typeof record.event === 'string')
    .map((record) => Object.fromEntries(Object.entries(record).filter(([k]) => !hostKeys.has(k))));
}

describe('the queries in docs/operations.md', () => {
  it('read only fields the app emits and columns the tables have', async () => {
    const headers = { 'x-functions-key': host.key };
    const token = await call(`${host.url}/api/token`, {
      method: 'POST',
      headers,
      json: { scopes: ['voip'] },
    });
    expect(token.status).toBe(200);
    const id = (token.json as { user: { communicationUserId: string } }).user.communicationUserId;
    const answers = [
      await call(`${host.url}/api/token`, { method: 'POST', headers, json: { scopes: [] } }),
      await call(`${host.url}/api/token/revoke`, {
        method: 'POST',
        headers,
        json: { communicationUserId: id },
      }),
      await call(`${host.url}/api/user?communicationUserId=${encodeURIComponent(id)}`, {
        method: 'DELETE',
        headers,
      }),
    ];
    // A create whose answer is lost after ACS committed it: the record flags it.
    emulator.setFaults({ dropAfterCommitRate: 1, operations: ['createUserAndToken'] });
    answers.push(
      await call(`${host.url}/api/token`, { method: 'POST', headers, json: { scopes: ['chat'] } }),
    );
    emulator.reset();
    expect(answers.map((a) => a.status)).toEqual([400, 204, 204, 503]);

    // One record per request; poll until the host has printed all five.
    const records = await pollUntil(
      () => appRecords(host.output()),
      (found) => found.filter((r) => r.event === 'request').length >= 5,
      5_000,
      50,
    );
    const requests = records.filter((r) => r.event === 'request');
    expect(requests).toHaveLength(5);

    const queries = documentedQueries();
    expect(queries.length).toBeGreaterThanOrEqual(3);
    for (const query of queries) {
      expect({ query: query.text, table: query.table in TABLE_COLUMNS }).toEqual({
        query: query.text,
        table: true,
      });
      const columns = columnsOf(query);
      expect({
        query: query.text,
        unknown: columns.filter((c) => !TABLE_COLUMNS[query.table]?.includes(c)),
      }).toEqual({
        query: query.text,
        unknown: [],
      });
      if (query.table !== 'traces') continue;
      // Traces queries open the request records; each field they read is in one of them.
      const { read, searched } = appFieldsOf(query);
      const missing = read.filter((field) => !requests.some((r) => field in r));
      const unmatched = searched
        .filter(({ field, value }) => !records.some((r) => r[field] === value))
        .map(({ field }) => field);
      expect({ query: query.text, missing, unmatched }).toEqual({
        query: query.text,
        missing: [],
        unmatched: [],
      });
      // `startswith '{"event":"request"'`: the record's first field is its event.
      const prefix = /startswith '([^']*)'/.exec(query.text)?.[1];
      if (prefix) {
        expect(requests.every((r) => JSON.stringify(r).startsWith(prefix))).toBe(true);
      }
      // `tostring(r.operation) in ("token", ...)`: each named operation is one the app logs.
      for (const m of query.text.matchAll(/r\.(\w+)\)?\s+in\s+\(([^)]*)\)/g)) {
        const values = [...(m[2] ?? '').matchAll(/"([^"]*)"/g)].map((v) => v[1]);
        const seen = new Set(requests.map((r) => r[m[1] ?? '']));
        expect(values.filter((v) => !seen.has(v))).toEqual([]);
      }
    }
  });

  it('find 4xx answers in requests: host.json records every invocation', () => {
    // The Functions host writes one Host.Results entry per invocation, at Information when the
    // function ran to completion (a 4xx answer included) and at Error only when it threw
    // (learn.microsoft.com/azure/azure-functions/configure-monitoring#configure-categories).
    const hostJson = JSON.parse(readFileSync(path.join(root, 'host.json'), 'utf8')) as {
      logging: { logLevel: Record<string, string> };
    };
    const levels = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical', 'None'];
    const { logLevel } = hostJson.logging;
    const results = logLevel['Host.Results'] ?? logLevel.default ?? 'Information';
    expect(levels.indexOf(results)).toBeLessThanOrEqual(levels.indexOf('Information'));
    const functionLevel = logLevel.Function ?? logLevel.default ?? 'Information';
    expect(levels.indexOf(functionLevel)).toBeLessThanOrEqual(levels.indexOf('Information'));
  });
});
