import { request } from 'node:https';
import { devLogin, uniqueUser } from './easyAuthSession';
import { call } from './http';
import { eventually } from './poll';

/** The request headers that sign a caller in (a session cookie, or a bearer token). */
export type SignIn = (user: string, role: string) => Promise<Record<string, string>>;

/** Where the role the app's identity holds on the (emulated) ACS resource is managed. */
export interface RoleControl {
  /** The emulator's base URL (https://127.0.0.1:<port>). */
  emulatorUrl: string;
  /** The local certificate authority, PEM. */
  ca: string;
  principalId: string;
}

/** One HTTPS exchange with the emulator's admin surface, trusting the local authority only. */
export function adminCall(
  control: RoleControl,
  method: string,
  pathname: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${control.emulatorUrl}${pathname}`, { method, ca: control.ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * What a signed-in caller does, with the app reaching ACS and the identity map only through its
 * managed identity (easyauth or jwt mode: `signIn` gives the caller's headers): a token, the same identity again (the mapping is kept), a
 * revoke, a delete. Then the app's role on the ACS resource is removed: a new caller gets 503
 * upstream_auth_failed, and the app's log line names the role to check. The role is put back.
 */
export async function walkThroughManagedIdentity(
  host: { url: string; output(): string },
  control: RoleControl,
  /** The caller's role and a scope it may ask for (TOKEN_POLICY, when one is deployed). */
  caller: { role: string; scope: string } = { role: 'member', scope: 'voip' },
  /** The headers that sign `user` in with `role`: by default the Easy Auth stand-in's cookie. */
  signIn: SignIn = async (user, role) => ({ cookie: await devLogin(host.url, user, role) }),
): Promise<void> {
  const json = { scopes: [caller.scope] };
  const postToken = (headers: Record<string, string>) =>
    call(`${host.url}/api/token`, { method: 'POST', headers, json });
  const signedIn = await signIn(uniqueUser('mi'), caller.role);
  const first = await postToken(signedIn);
  expect(first.status).toBe(200);
  const user = (first.json as { user: { communicationUserId: string } }).user.communicationUserId;
  expect(user).toMatch(/^8:acs:/);
  const again = await postToken(signedIn);
  expect(again.status).toBe(200);
  expect((again.json as { user: { communicationUserId: string } }).user.communicationUserId).toBe(
    user,
  );
  const me = await call(`${host.url}/api/user`, { headers: signedIn });
  expect(me.json).toEqual({ communicationUserId: user });
  expect(
    (await call(`${host.url}/api/token/revoke`, { method: 'POST', headers: signedIn })).status,
  ).toBe(204);
  expect((await call(`${host.url}/api/user`, { method: 'DELETE', headers: signedIn })).status).toBe(
    204,
  );
  expect((await call(`${host.url}/api/user`, { headers: signedIn })).status).toBe(404);

  expect((await adminCall(control, 'DELETE', `/admin/roles/${control.principalId}`)).status).toBe(
    204,
  );
  try {
    const other = await signIn(uniqueUser('mi-norole'), caller.role);
    const refused = await postToken(other);
    expect({ status: refused.status, code: (refused.json as { code?: string }).code }).toEqual({
      status: 503,
      code: 'upstream_auth_failed',
    });
    await eventually('the upstream_auth_failed log line naming the role', () =>
      /"event":"dependency_failure","code":"upstream_auth_failed".*"check":"ACS_ENDPOINT and the managed identity's role assignment on that ACS resource \(infra assigns Contributor\)/.test(
        host.output(),
      ),
    );
  } finally {
    expect((await adminCall(control, 'PUT', `/admin/roles/${control.principalId}`)).status).toBe(
      204,
    );
  }
}
