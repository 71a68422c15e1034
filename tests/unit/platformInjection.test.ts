import type { CommunicationIdentityClient } from '@azure/communication-identity';
import { AcsIdentityGateway } from '../../src/infra/acsIdentityGateway';
import { AcsReachability } from '../../src/infra/acsReachability';

const tally = () => ({ acsCalls: 0, acsMs: 0, acsRetries: 0 });

describe('AcsIdentityGateway on a clock and timers of its caller', () => {
  it('waits out a retry with the sleep it is given, not a real timer', async () => {
    let calls = 0;
    const client = {
      getToken: () => {
        calls += 1;
        if (calls === 1)
          return Promise.reject(Object.assign(new Error('busy'), { statusCode: 503 }));
        return Promise.resolve({ token: 'eyJ.t', expiresOn: new Date(0) });
      },
    } as unknown as CommunicationIdentityClient;
    const slept: number[] = [];
    const gateway = new AcsIdentityGateway({
      connect: () => Promise.resolve(client),
      timeoutMs: 60_000,
      now: () => 1_000,
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    const facts = tally();
    const token = await gateway.observedBy(facts).getToken('8:acs:x', ['voip'], 60);
    expect(token.token).toBe('eyJ.t');
    expect(slept).toHaveLength(1);
    expect(facts).toMatchObject({ acsCalls: 2, acsRetries: 1 });
  });
});

describe('AcsReachability on a clock and fetch of its caller', () => {
  it('probes through the fetch it is given and caches by its clock', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const probed: string[] = [];
    const reachability = new AcsReachability(new URL('https://acs.example/'), {
      now: () => now,
      fetch: (input) => {
        probed.push(input instanceof URL ? input.href : JSON.stringify(input));
        return Promise.resolve(new Response('nope', { status: 401 }));
      },
    });
    const first = await reachability.check();
    expect(first).toMatchObject({ reachable: true, checkedAt: '2030-01-01T00:00:00.000Z' });
    now += 9_999;
    await reachability.check();
    expect(probed).toEqual(['https://acs.example/']);
    now += 1;
    expect(await reachability.check()).toMatchObject({ checkedAt: '2030-01-01T00:00:10.000Z' });
    expect(probed).toHaveLength(2);
  });

  it('reads a failed fetch as unreachable', async () => {
    const reachability = new AcsReachability(new URL('https://acs.example/'), {
      now: () => 0,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    expect(await reachability.check()).toMatchObject({ reachable: false });
  });
});
