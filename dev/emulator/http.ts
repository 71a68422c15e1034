import type { IncomingMessage, ServerResponse } from 'node:http';

import { AcsError, payloadTooLarge } from './errors';
import type { RequestBody } from './acs';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the whole body. An oversized body is still drained to its end before the 413 is
 * thrown: answering mid-upload makes many clients report a broken pipe instead of the 413.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(payloadTooLarge(limit));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function parseBody(raw: Buffer): RequestBody {
  if (raw.length === 0) return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { kind: 'invalid' };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendRaw(res, status, JSON.stringify(body), headers);
}

/**
 * Writes `text` as an application/json response, whether or not it is valid JSON. ACS labels its
 * 2xx JSON `application/json; charset=utf-8` and its errors `application/json` (azure-sdk-for-js
 * sdk/communication/communication-identity/recordings/node/communicationidentityclient_playbacklive/
 * recording_successfully_gets_a_token_with_max_valid_custom_expiration.json: 201 and 200 carry the
 * charset; the 400s of ..._error_cases_/recording_throws_an_error_when_attempting_to_issue_a_token_without_any_scopes.json do not).
 */
export function sendRaw(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    ...headers,
    'content-type':
      status >= 200 && status < 300 ? 'application/json; charset=utf-8' : 'application/json',
    'content-length': String(payload.length),
  });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status);
  res.end();
}

export function sendError(res: ServerResponse, err: AcsError): void {
  sendJson(res, err.status, err.toBody(), err.headers);
}
