import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { call, type Answer } from '../support/http';
import { issuerOfHost, mintToken } from '../support/issuer';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * Principals that must stay apart and must be served (issue #19 item 3): ids that differ only by
 * surrounding whitespace, and names and ids outside Latin-1 or holding CR, LF or NUL, in
 * easyauth mode (through the Easy Auth stand-in) and in jwt mode.
 */
let emulator: RunningEmulator;
let azurite: TestAzurite;
let easyauth: LocalHostProcess;
let jwt: LocalHostProcess;
let issuer: string;

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([startEmulator({ port: 0 }), startTestAzurite()]);
  const common = {
    ACS_CONNECTION_STRING: emulator.connectionString,
    IDENTITY_MAP_CONNECTION: azurite.connectionString,
  };
  [easyauth, jwt] = await Promise.all([
    startLocalHost({ ...common, AUTH_MODE: 'easyauth' }),
    startLocalHost({ ...common, AUTH_MODE: 'jwt' }),
  ]);
  issuer = issuerOfHost(jwt.output());
});

afterAll(async () => {
  await Promise.all([easyauth?.stop(), jwt?.stop()]);
  await Promise.all([emulator?.close(), azurite?.dispose()]);
});

const run = `${Date.now()}`;

async function signIn(user: string, name?: string): Promise<string> {
  const query = new URLSearchParams({ user, roles: 'member', ...(name ? { name } : {}) });
  const answer = await fetch(`${easyauth.url}/.auth/login/dev?${query.toString()}`);
  expect(answer.status).toBe(200);
  return (answer.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
}

function identityOf(answer: Answer): string {
  expect(answer.status).toBe(200);
  return (answer.json as { user: { communicationUserId: string } }).user.communicationUserId;
}

async function easyAuthIdentity(user: string, name?: string): Promise<string> {
  const cookie = await signIn(user, name);
  const answer = await call(`${easyauth.url}/api/token`, {
    method: 'POST',
    headers: { cookie },
    json: { scopes: ['voip'] },
  });
  return identityOf(answer);
}

async function jwtIdentity(sub: string): Promise<string> {
  const token = await mintToken(issuer, { sub, roles: ['member'] });
  const answer = await call(`${jwt.url}/api/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    json: { scopes: ['voip'] },
  });
  return identityOf(answer);
}

/** Each principal gets its own identity, and keeps it on its next request. */
async function expectApartAndStable(
  principals: string[],
  identity: (principal: string) => Promise<string>,
): Promise<void> {
  const first = [];
  for (const p of principals) first.push(await identity(p));
  expect(new Set(first).size).toBe(principals.length);
  const again = [];
  for (const p of principals) again.push(await identity(p));
  expect(again).toEqual(first);
}

const spaced = (base: string) => [
  base,
  ` ${base}`,
  `${base} `,
  `${base}\t`,
  `\t${base}`,
  ` ${base} `,
];

describe('principal ids that differ only by surrounding whitespace', () => {
  it('easyauth: never share an identity', async () => {
    await expectApartAndStable(spaced(`alice-${run}`), (user) => easyAuthIdentity(user));
  });

  it('jwt: `sub` is taken exactly as the token has it, so never share an identity', async () => {
    await expectApartAndStable(spaced(`bob-${run}`), jwtIdentity);
  });
});

describe('names and ids outside Latin-1, or with CR, LF or NUL', () => {
  const odd = [
    `アリス-${run}`,
    `张伟-${run}`,
    `Zoë-${run}`,
    `a\nb-${run}`,
    `a\r\nb-${run}`,
    `a\0b-${run}`,
  ];

  it('easyauth: users with such ids are served, each with its own identity', async () => {
    // The percent-encoded form of a name is somebody else's id, not the same principal.
    const lookalike = encodeURIComponent(`アリス-${run}`);
    await expectApartAndStable([...odd, lookalike], (user) => easyAuthIdentity(user));
  });

  it('easyauth: users with such names are served', async () => {
    for (const [i, name] of odd.entries()) {
      expect(await easyAuthIdentity(`named-${i}-${run}`, name)).toMatch(/^8:acs:/);
    }
  });

  it('jwt: subjects like these are served, each with its own identity', async () => {
    await expectApartAndStable(odd, jwtIdentity);
  });
});
