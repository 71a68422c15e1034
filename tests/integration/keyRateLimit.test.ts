import http from 'node:http';
import { startEmulator, type RunningEmulator } from '../../dev/emulator';
import { startLocalHost, type LocalHostProcess } from '../support/localHost';

/**
 * Key mode's rate limit counts per key the host authenticated, compared as the host compares it
 * (issue #19 item 2). Once the key is at 429, nothing a caller can add to the request (another
 * `code`, another header, another spelling of the name or the key) buys a fresh allowance.
 */
const KEY = 'Rate-Limited-Key_0123456789abcdef';
const BURST = 2;

let emulator: RunningEmulator;
let host: LocalHostProcess;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  host = await startLocalHost({
    ACS_CONNECTION_STRING: emulator.connectionString,
    FUNCTIONS_DEV_KEY: KEY,
    RATE_LIMIT_KEY_PER_MINUTE: '1',
    RATE_LIMIT_KEY_BURST: String(BURST),
  });
});

afterAll(async () => {
  await host?.stop();
  await emulator?.close();
});

interface Sent {
  status: number;
  code: string | undefined;
}

/** `GET /api/token` with raw header lines, so a header can be sent twice. */
function token(query: string, headers: [string, string][] = []): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${host.url}/api/token?scopes=voip${query}`, { method: 'GET' });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? (JSON.parse(text) as { code?: string }) : {};
        resolve({ status: res.statusCode ?? 0, code: body.code });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const q = encodeURIComponent;
const mixed = [...KEY].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join('');

describe('key mode: the rate limit once a key is at 429', () => {
  beforeAll(async () => {
    // `?CODE=` is the key to the host, so to the app it is the key parameter, not an unknown one.
    expect((await token(`&CODE=${q(KEY)}`)).status).toBe(200);
    for (let i = 1; i < BURST; i++) expect((await token(`&code=${q(KEY)}`)).status).toBe(200);
    expect(await token(`&code=${q(KEY)}`)).toEqual({ status: 429, code: 'rate_limited' });
    expect(emulator.counts().createUserAndToken).toBe(BURST);
  });

  afterAll(() => {
    // Not one of the attempts below reached ACS.
    expect(emulator.counts().createUserAndToken).toBe(BURST);
  });

  it.each([
    ['code=KEY&code=x1', `&code=${q(KEY)}&code=x1`],
    ['code=KEY&code=x2', `&code=${q(KEY)}&code=x2`],
    ['code=KEY&code=', `&code=${q(KEY)}&code=`],
    ['code=KEY&CODE=x3', `&code=${q(KEY)}&CODE=x3`],
    ['the key upper-cased', `&code=${q(KEY.toUpperCase())}`],
    ['the key lower-cased', `&code=${q(KEY.toLowerCase())}`],
    ['the key in mixed case', `&code=${q(mixed)}`],
    ['?CODE=KEY', `&CODE=${q(KEY)}`],
    ['?Code=KEY&code=x4', `&Code=${q(KEY)}&code=x4`],
  ])('%s answers 429', async (_label, query) => {
    expect(await token(query)).toEqual({ status: 429, code: 'rate_limited' });
  });

  it.each([
    ['two x-functions-key headers', [KEY, 'x1']],
    ['two headers, the second one different', [KEY, 'x2']],
    ['the key upper-cased, then another header', [KEY.toUpperCase(), 'x3']],
  ])('%s answer 429', async (_label, values) => {
    const headers = values.map((v): [string, string] => ['x-functions-key', v]);
    expect(await token('', headers)).toEqual({ status: 429, code: 'rate_limited' });
  });

  it('header and query both present: the header is the key, in any case, with any code', async () => {
    expect(await token('&code=x5', [['x-functions-key', KEY]])).toEqual({
      status: 429,
      code: 'rate_limited',
    });
    expect(await token(`&code=${q(KEY)}`, [['x-functions-key', KEY.toLowerCase()]])).toEqual({
      status: 429,
      code: 'rate_limited',
    });
    // A wrong header is not rescued by a right code: the host authenticates the header only.
    expect((await token(`&code=${q(KEY)}`, [['x-functions-key', 'x6']])).status).toBe(401);
  });
});
