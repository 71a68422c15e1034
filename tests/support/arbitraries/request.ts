/**
 * What a generated hostile request is (plain data), and the helpers that read one.
 * Part of the hostile-input generators (tests/support/arbitraries.ts).
 */

export type HostMode = 'key' | 'easyauth';

/** Large bodies are kept as a recipe so fast-check never builds or prints megabytes of text. */
export type Body =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'repeat'; head: string; unit: string; count: number; tail: string };

/** How a raw-socket request is framed; fetch cannot send any of this. */
export interface RawFraming {
  /** The Host line's value; `undefined` sends the real `localhost:<port>`, `null` leaves it out. */
  host: string | null | undefined;
  version: '1.1' | '1.0';
  /** `length` = an accurate Content-Length; `lines` = these literal Content-Length lines. */
  framing:
    | { kind: 'length' }
    | { kind: 'chunked' }
    | { kind: 'lines'; values: string[] }
    | { kind: 'lengthAndChunked' };
}

export interface HostileRequest {
  host: HostMode;
  transport: 'fetch' | 'raw';
  method: string;
  /** Request target: a path with query (or, raw only, an absolute URL). */
  target: string;
  /** In order; a repeated name is sent twice (fetch folds repeats into one line). */
  headers: [string, string][];
  body: Body;
  raw: RawFraming | undefined;
  /** Which generator family made the body, for the summary and failure messages. */
  family: string;
}

/** What the generators may aim at: the real key, genuine dev sessions and the hosts' policy. */
export interface FuzzSecrets {
  functionKey: string;
  /** `AppServiceAuthSession` cookie values (`payload.signature`) from real dev sign-ins. */
  sessions: readonly string[];
  allowedScopes: readonly string[];
  maxExpiryMinutes: number;
  /** Origins the hosts' CORS settings list, for Origin headers that match or nearly match. */
  allowedOrigins: readonly string[];
  /** Files of the browser demo the hosts serve at `/` (`index.html`, `main.js`, …). */
  demoFiles: readonly string[];
}

export const SESSION_COOKIE = 'AppServiceAuthSession';
/** Marks forged values so the suite can prove none of them reaches a log line. */
export const CANARY = 'fuzz-canary-7f3c';

export const ACS_SCOPE_NAMES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'];
export const HOST_BODY_LIMIT = 8 * 1024 * 1024;

export function bodyText(body: Body): string {
  switch (body.kind) {
    case 'none':
      return '';
    case 'text':
      return body.text;
    case 'repeat':
      return body.head + body.unit.repeat(body.count) + body.tail;
  }
}

/** Fills a raw Content-Length pattern (`{n}` = the body's byte length, `{h}` = the same in hex). */
export function contentLengthLine(pattern: string, length: number): string {
  return pattern.replaceAll('{n}', String(length)).replaceAll('{h}', length.toString(16));
}

export function bodySize(body: Body): number {
  return body.kind === 'repeat'
    ? Buffer.byteLength(body.head + body.tail) + Buffer.byteLength(body.unit) * body.count
    : Buffer.byteLength(bodyText(body));
}

const clip = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);

/** A one-line description for failure messages (bodies and long headers are clipped). */
export function describeRequest(r: HostileRequest): string {
  const body =
    r.body.kind === 'repeat'
      ? `${clip(r.body.head)} + ${JSON.stringify(clip(r.body.unit))}×${r.body.count} + ${clip(r.body.tail)}`
      : JSON.stringify(clip(bodyText(r.body), 200));
  const headers = r.headers.map(([n, v]) => `${n}: ${JSON.stringify(clip(v))}`).join(', ');
  const raw = r.raw ? ` raw=${JSON.stringify(r.raw)}` : '';
  return `[${r.host}/${r.transport}/${r.family}] ${r.method} ${clip(r.target, 300)} {${headers}} body(${bodySize(r.body)}B)=${body}${raw}`;
}

/** Headers on the wire, roughly, to keep generated requests away from the 16 KiB edge. */
export function headerBytes(r: Pick<HostileRequest, 'headers' | 'target'>): number {
  return r.target.length + r.headers.reduce((sum, [n, v]) => sum + n.length + v.length + 4, 0);
}
