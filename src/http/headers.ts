/**
 * Sent on every answer: tokens must never sit in a browser or proxy cache, and JSON must never
 * be sniffed into something else.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
};
