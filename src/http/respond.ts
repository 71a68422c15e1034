import type { HttpResponseInit } from '@azure/functions';
import { SECURITY_HEADERS } from './headers';

export function json(status: number, body: unknown): HttpResponseInit {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

export function noContent(): HttpResponseInit {
  return { status: 204, headers: { ...SECURITY_HEADERS } };
}
