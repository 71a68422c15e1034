const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Base64url (or base64) to UTF-8 text, by hand: not every runtime the package serves (React
 * Native in particular) has `atob`, `Buffer` or `TextDecoder`.
 */
function decodeBase64Url(segment: string): string {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of segment.replace(/[=+/]/g, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''))) {
    const digit = BASE64URL.indexOf(char);
    if (digit < 0) throw new Error('not base64url');
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  return decodeURIComponent(bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
}

/**
 * The `exp` of a JWT in milliseconds, read the way @azure/communication-common's tokenParser
 * reads it (jwtDecode, then `exp * 1000`): that is the instant the SDK schedules by. The
 * signature is not checked; ACS checks it when the token is used.
 */
export function expiresAtMs(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const { exp } = JSON.parse(decodeBase64Url(payload)) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
