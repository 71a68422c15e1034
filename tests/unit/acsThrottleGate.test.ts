import { AcsThrottleGate } from '../../src/infra/acsThrottleGate';

const throttled = (retryAfter?: string) => ({
  statusCode: 429,
  response: { headers: { get: (n: string) => (n === 'retry-after' ? retryAfter : undefined) } },
});

describe('AcsThrottleGate', () => {
  it('shuts one operation class for Retry-After, answering with the time left', () => {
    let now = 1_000_000;
    const gate = new AcsThrottleGate(() => now);
    expect(gate.learn('createUserAndToken', throttled('12'))).toBe(true);
    now += 2_500;
    let refusal: unknown;
    try {
      gate.check('createUserAndToken');
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ code: 'upstream_throttled', retryAfterSeconds: 10 });
    expect(() => gate.check('issueAccessToken')).not.toThrow();
    expect(gate.throttled()).toEqual([{ operation: 'createUserAndToken', retryAfterSeconds: 10 }]);
    now += 9_500;
    expect(() => gate.check('createUserAndToken')).not.toThrow();
    expect(gate.throttled()).toEqual([]);
  });

  it('ignores other failures, keeps the later deadline, and shuts a while without Retry-After', () => {
    let now = 0;
    const gate = new AcsThrottleGate(() => now);
    expect(gate.learn('issueAccessToken', { statusCode: 503 })).toBe(false);
    expect(gate.learn('issueAccessToken', new Error('boom'))).toBe(false);
    expect(gate.throttled()).toEqual([]);
    gate.learn('issueAccessToken', throttled('20'));
    gate.learn('issueAccessToken', throttled('3'));
    expect(gate.throttled()[0]?.retryAfterSeconds).toBe(20);
    gate.learn('deleteIdentity', throttled());
    now += 1_000;
    expect(gate.throttled()).toContainEqual({ operation: 'deleteIdentity', retryAfterSeconds: 4 });
  });
});

describe('AcsThrottleGate in-flight slots', () => {
  it('queues past the limit, hands slots on, and answers the queue at once on a 429', async () => {
    const gate = new AcsThrottleGate(Date.now, 2);
    const first = await gate.acquire('createUserAndToken', 1_000);
    const second = await gate.acquire('createUserAndToken', 1_000);
    let thirdAdmitted = false;
    const third = gate.acquire('createUserAndToken', 1_000).then((release) => {
      thirdAdmitted = true;
      return release;
    });
    const fourth = gate.acquire('createUserAndToken', 1_000);
    // Another class has slots of its own.
    (await gate.acquire('issueAccessToken', 1_000))();
    await new Promise((resolve) => setImmediate(resolve));
    expect(thirdAdmitted).toBe(false);
    first();
    const releaseThird = await third;
    expect(thirdAdmitted).toBe(true);
    expect(gate.learn('createUserAndToken', throttled('9'))).toBe(true);
    await expect(fourth).rejects.toMatchObject({
      code: 'upstream_throttled',
      retryAfterSeconds: 9,
    });
    second();
    releaseThird();
    await expect(gate.acquire('createUserAndToken', 1_000)).rejects.toMatchObject({
      code: 'upstream_throttled',
    });
  });

  it('gives up waiting after waitMs with a short Retry-After', async () => {
    const gate = new AcsThrottleGate(Date.now, 1);
    const held = await gate.acquire('deleteIdentity', 1_000);
    await expect(gate.acquire('deleteIdentity', 20)).rejects.toMatchObject({
      code: 'upstream_throttled',
      retryAfterSeconds: 1,
    });
    held();
    (await gate.acquire('deleteIdentity', 20))();
  });
});
