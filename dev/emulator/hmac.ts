import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { denied } from './errors';

/** ACS refuses requests whose x-ms-date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';
const AUTH_PATTERN = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/;

export interface SignedRequest {
  method: string;
  /** The request target exactly as received (`req.url`). */
  target: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Decodes a resource access key. Buffer.from(..., 'base64') silently skips bad characters,
 * so a mistyped key would otherwise become a different, valid-looking key.
 */
export function decodeAccessKey(accessKey: string): Buffer {
  if (accessKey === '' || !BASE64.test(accessKey)) {
    throw new Error('The access key must be a non-empty, standard base64 string.');
  }
  return Buffer.from(accessKey, 'base64');
}

export function sha256Base64(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64');
}

export function hmacSignature(key: Buffer, stringToSign: string): string {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64');
}

/**
 * Throws a 401 AcsError unless the request carries a valid ACS HMAC-SHA256 signature made
 * with `key` (the base64-decoded access key).
 */
export function verifyHmac(req: SignedRequest, key: Buffer, nowMs: number): void {
  const authorization = single(req.headers.authorization);
  if (authorization === undefined) throw denied('the Authorization header is missing.');
  if (/^Bearer\s/i.test(authorization)) {
    throw denied('bearer tokens are not supported by the emulator; sign with the access key.');
  }
  const match = AUTH_PATTERN.exec(authorization);
  if (!match) throw denied('the Authorization header is not an HMAC-SHA256 signature.');
  const [, signedHeaders = '', signature = ''] = match;
  if (signedHeaders.toLowerCase() !== SIGNED_HEADERS) {
    throw denied(`SignedHeaders must be '${SIGNED_HEADERS}'.`);
  }

  const date = single(req.headers['x-ms-date']);
  if (date === undefined) throw denied('the x-ms-date header is missing.');
  const dateMs = Date.parse(date);
  // Round-tripping through toUTCString accepts exactly the RFC 1123 form the SDK sends.
  if (Number.isNaN(dateMs) || new Date(dateMs).toUTCString() !== date) {
    throw denied('x-ms-date is not an RFC 1123 date.');
  }
  if (Math.abs(nowMs - dateMs) > MAX_CLOCK_SKEW_MS) {
    throw denied('x-ms-date is more than 15 minutes away from the server clock.');
  }

  const host = single(req.headers.host);
  if (host === undefined) throw denied('the Host header is missing.');

  const contentHash = single(req.headers['x-ms-content-sha256']);
  if (contentHash === undefined) throw denied('the x-ms-content-sha256 header is missing.');
  if (!safeEqual(contentHash, sha256Base64(req.body))) {
    throw denied('x-ms-content-sha256 does not match the request body.');
  }

  const candidates = new Set([req.target, normalizedPathAndQuery(req.target)]);
  const verb = req.method.toUpperCase();
  for (const pathAndQuery of candidates) {
    const expected = hmacSignature(key, `${verb}\n${pathAndQuery}\n${date};${host};${contentHash}`);
    if (safeEqual(signature, expected)) return;
  }
  throw denied('the HMAC signature does not match.');
}

/**
 * The SDK signs `pathname + '?' + searchParams.toString()` of its URL, which re-encodes the
 * query; a hand-written client may sign the target verbatim. Both forms are accepted.
 */
function normalizedPathAndQuery(target: string): string {
  try {
    const url = new URL(target, 'http://emulator.invalid');
    const query = url.searchParams.toString();
    return query ? `${url.pathname}?${query}` : url.pathname;
  } catch {
    return target;
  }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
