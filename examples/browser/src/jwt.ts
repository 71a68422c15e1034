function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * The claims of a JWT, read without checking its signature. That is fine for display: the page
 * only shows what it was given, and ACS checks the signature when the token is used.
 */
export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  return JSON.parse(base64UrlDecode(payload)) as Record<string, unknown>;
}

/** The scopes an ACS token grants: `scp` (an array) or, failing that, `acsScope` ("chat,voip"). */
export function grantedScopes(token: string): string[] {
  const { scp, acsScope } = claimsOf(token);
  if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string');
  if (typeof acsScope === 'string') return acsScope.split(',').filter(Boolean);
  return [];
}
