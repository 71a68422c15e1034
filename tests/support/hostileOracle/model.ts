import type { HostMode } from '../arbitraries/request';

/** What the oracle's layers share: the hosts' settings, limits, the request as seen, results. Part of tests/support/hostileOracle.ts. */

export interface Policy {
  allowedScopes: readonly string[];
  defaultScopes: readonly string[];
  defaultExpiryMinutes: number;
  maxExpiryMinutes: number;
}

export interface OracleContext {
  functionKey: string;
  /** Genuine `AppServiceAuthSession` cookie values. */
  sessions: ReadonlySet<string>;
  policy: Policy;
  ports: Record<HostMode, number>;
  /** Each host's `CORS_ALLOWED_ORIGINS`: exact origins, or `*`. */
  cors: Record<HostMode, readonly string[] | '*'>;
  /** The folder the hosts serve at `/` (the built browser demo). */
  demoRoot: string;
}

export type Route = 'token' | 'revoke' | 'user' | 'health' | 'openapi';

/** What an app answer may be; `allow` is the `Allow` header a 405 must carry. */
export interface OutcomeSpec {
  status: number;
  code?: string;
  allow?: string;
}

export interface Grant {
  scopes: string[];
  expiresInMinutes: number;
}

export interface AppAnswer {
  layer: 'app';
  route: Route;
  /** Acceptable answers; more than one only where state the model cannot see decides. */
  outcomes: OutcomeSpec[];
  why: string;
  /** For a 200 from /api/token: what the token must grant. */
  grant?: Grant;
}

/**
 * `cors`: the `access-control-*` and `vary` headers the answer carries, exactly (none when
 * absent). The host's CORS layer adds them to every answer after the URL is read.
 */
export type Expectation = (
  | {
      layer: 'http' | 'host' | 'cors' | 'worker';
      status: number;
      why: string;
      /** Other statuses accepted (see `Seen.splitRefusal`). */
      alternatives?: number[];
    }
  /** The host's default page at `/` (HomepageMiddleware). */
  | { layer: 'host'; status: 200; homepage: true; why: string }
  | { layer: 'files'; status: 400; why: string }
  /** `file` is the absolute path of the file whose bytes the answer carries (none for HEAD). */
  | { layer: 'files'; status: 200; file: string; contentType: string; why: string }
  | AppAnswer
) & { cors?: Record<string, string> };

export const APP_BODY_LIMIT = 16 * 1024;
export const HOST_BODY_LIMIT = 8 * 1024 * 1024;
/** Kestrel's MaxRequestLineSize, MaxRequestHeadersTotalSize and MaxRequestHeaderCount. */
export const REQUEST_LINE_LIMIT = 8 * 1024;
export const HEADERS_LIMIT = 32 * 1024;
export const HEADER_COUNT_LIMIT = 100;
export const MIN_EXPIRY = 60;
export const MAX_EXPIRY = 1440;
export const TOKEN_FIELDS = ['scopes', 'expiresInMinutes', 'communicationUserId'];
export const ACS_ID = /^8:[a-z0-9-]+:[A-Za-z0-9_.-]+$/;

/** Node keeps the first of these when a request repeats them (http.IncomingMessage docs). */
export const FIRST_WINS = new Set([
  'content-type',
  'content-length',
  'authorization',
  'host',
  'user-agent',
  'referer',
  'from',
]);
export const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** .NET's `OrdinalIgnoreCase`: each character upper-cased on its own (`ß` stays `ß`). */
export function ordinalIgnoreCase(value: string): string {
  return [...value].map((c) => ([...c.toUpperCase()].length === 1 ? c.toUpperCase() : c)).join('');
}

/** The host's key parameter, whose name ASP.NET Core's query collection compares ignoring case. */
export const isKeyParameter = (name: string) => ordinalIgnoreCase(name) === 'CODE';

/** The request as the server receives it, after the client library and Node's parser. */
export interface Seen {
  method: string;
  /** The request-target on the wire. */
  target: string;
  host: string | undefined;
  headers: Map<string, string>;
  /** The first `x-functions-key` header line's value, which is all the host authenticates. */
  keyHeader?: string;
  body: Buffer;
  /** Set when Kestrel refuses the request. */
  refused?: { status: number; why: string };
  /**
   * Node's parser (llhttp) refuses this head itself (a head over 40 KiB, a broken or repeated
   * Content-Length), so the local host can only apply Kestrel's order of checks to the part of
   * the head in the last packet: with a head over 16 KiB, which may come in several, any of
   * Kestrel's refusals (400, 414, 431) is accepted.
   */
  splitRefusal?: boolean;
}

export type Failure = { status: number; code: string; why: string };
export type Result<T> = { ok: true; value: T } | ({ ok: false } & Failure);
export const fail = (status: number, code: string, why: string): { ok: false } & Failure => ({
  ok: false,
  status,
  code,
  why,
});
