import { call, type Answer } from './http';

let run = 0;

/** A unique user name per call, so tests never share a mapping. */
export function uniqueUser(label: string): string {
  return `${label}-${Date.now()}-${++run}`;
}

/**
 * Signs in through the Easy Auth stand-in's development login and returns the session cookie as
 * a `name=value` pair, after checking it is set the way App Service sets its session cookie.
 */
export async function devLogin(baseUrl: string, user: string, roles = 'member'): Promise<string> {
  const answer = await fetch(`${baseUrl}/.auth/login/dev?user=${user}&roles=${roles}`);
  expect(answer.status).toBe(200);
  const cookie = answer.headers.getSetCookie()[0] ?? '';
  expect(cookie).toMatch(/^AppServiceAuthSession=.+; Path=\/; HttpOnly; SameSite=Lax/);
  return cookie.split(';')[0] ?? '';
}

/** `POST /api/token` with the session cookie (or none) and any extra headers. */
export function postToken(
  baseUrl: string,
  cookie: string | undefined,
  json: unknown = { scopes: ['voip'] },
  headers: Record<string, string> = {},
): Promise<Answer> {
  return call(`${baseUrl}/api/token`, {
    method: 'POST',
    headers: { ...(cookie ? { cookie } : {}), ...headers },
    json,
  });
}
