/** Who is using the page, as far as the platform in front of the service says. */
export type Session =
  | { mode: 'easyauth'; user: string; roles: string[] }
  | { mode: 'easyauth'; user: undefined }
  /** No Easy Auth in front of the service: callers present a function key. */
  | { mode: 'key' }
  /** AUTH_MODE=jwt: callers present an access token from the app's OpenID Connect provider. */
  | { mode: 'bearer' };

interface MeEntry {
  user_id?: string;
  user_claims?: { typ?: string; val?: string }[];
}

const ROLE_CLAIMS = new Set([
  'roles',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
]);

/**
 * Asks Easy Auth's `/.auth/me`. It answers 404 when Easy Auth is off, and 401 (or an empty list)
 * when nobody is signed in. Without Easy Auth, a request without credentials tells the two other
 * modes apart: jwt mode challenges it with `WWW-Authenticate: Bearer` (RFC 6750 §3), while the
 * Functions host answers a missing function key with a bare 401.
 */
export async function currentSession(): Promise<Session> {
  const response = await fetch('/.auth/me', {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  if (response.status === 404) {
    const probe = await fetch('/api/user', { credentials: 'omit' });
    const challenge = probe.headers.get('www-authenticate') ?? '';
    return probe.status === 401 && /^Bearer\b/i.test(challenge)
      ? { mode: 'bearer' }
      : { mode: 'key' };
  }
  if (!response.ok) return { mode: 'easyauth', user: undefined };
  const [entry] = (await response.json()) as MeEntry[];
  if (!entry?.user_id) return { mode: 'easyauth', user: undefined };
  const roles = (entry.user_claims ?? []).flatMap((c) =>
    c.typ && ROLE_CLAIMS.has(c.typ) && c.val ? [c.val] : [],
  );
  return { mode: 'easyauth', user: entry.user_id, roles };
}
