import { CallerIdentities } from '../../src/domain/callerIdentities';
import { AppError } from '../../src/domain/errors';
import type { MappingRecord, MappingUpdate } from '../../src/domain/identityMap';
import { FakeIdentityService, MemoryIdentityMap } from '../support/fakes';

/** The identity map fails the write that would record a new identity (a storage timeout). */
class FailingRecordMap extends MemoryIdentityMap {
  override replace(record: MappingRecord, next: MappingUpdate) {
    if (next.communicationUserId) {
      return Promise.reject(new AppError('storage_unavailable', 'the identity map timed out'));
    }
    return super.replace(record, next);
  }
}

describe('a create whose identity cannot be recorded', () => {
  it('deletes the new identity instead of leaving it orphaned, and says why', async () => {
    const identity = new FakeIdentityService();
    const callers = new CallerIdentities({
      identity,
      map: new FailingRecordMap(),
      leaseMs: 15_000,
      waitMs: 12_000,
    });
    await expect(
      callers.token('p1', { scopes: ['voip'], expiresInMinutes: 60 }),
    ).rejects.toMatchObject({ code: 'storage_unavailable' });
    expect(identity.calls).toEqual(['createUserAndToken', 'deleteUser']);
    expect(identity.live.size).toBe(0);
  });
});
