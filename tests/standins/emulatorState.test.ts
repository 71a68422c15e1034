import { EmulatorState } from '../../dev/emulator/state';
import { IdentityStore } from '../../dev/emulator/store';
import { createSigningKey, type SigningKey, TokenSigner } from '../../dev/emulator/tokens';

const ISSUER = 'http://127.0.0.1:1';
const RESOURCE = '00000000-0000-4000-8000-000000000001';
// A fixed instant in the middle of a second, so "same second" cases are unambiguous.
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0, 200);

describe('EmulatorState.introspect', () => {
  let key: SigningKey;
  let otherKey: SigningKey;

  beforeAll(async () => {
    [key, otherKey] = await Promise.all([createSigningKey(), createSigningKey()]);
  });

  function setup(): { state: EmulatorState; store: IdentityStore; signer: TokenSigner } {
    const store = new IdentityStore(RESOURCE);
    const signer = new TokenSigner(key, ISSUER, RESOURCE);
    return { state: new EmulatorState(store, signer, () => 0.5), store, signer };
  }

  function issue(store: IdentityStore, signer: TokenSigner, id: string, atMs: number): string {
    const issued = signer.issue(id, ['chat'], 60, atMs);
    store.recordIssued(id, issued.claims.jti, atMs);
    return issued.token;
  }

  it('reports a fresh token as active with its subject and scopes', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const token = issue(store, signer, id, T0);
    expect(state.introspect(token, T0 + 1000)).toEqual({ active: true, sub: id, scopes: ['chat'] });
  });

  it('reports a token as expired from its exp second on', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const token = issue(store, signer, id, T0);
    const expMs = (Math.floor(T0 / 1000) + 3600) * 1000;
    expect(state.introspect(token, expMs - 1).active).toBe(true);
    expect(state.introspect(token, expMs)).toEqual({
      active: false,
      reason: 'expired',
      sub: id,
      scopes: ['chat'],
    });
  });

  it('revokes tokens issued earlier in the same second, but not those issued after', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const before = issue(store, signer, id, T0);
    store.revoke(id, T0 + 300);
    const after = issue(store, signer, id, T0 + 500);
    expect(state.introspect(before, T0 + 600)).toEqual({
      active: false,
      reason: 'revoked',
      sub: id,
      scopes: ['chat'],
    });
    expect(state.introspect(after, T0 + 600)).toEqual({ active: true, sub: id, scopes: ['chat'] });
  });

  it('revokes tokens issued in earlier seconds', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const old = issue(store, signer, id, T0 - 5000);
    store.revoke(id, T0);
    expect(state.introspect(old, T0).reason).toBe('revoked');
  });

  it('reports tokens of a deleted identity as deleted', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const token = issue(store, signer, id, T0);
    store.delete(id);
    expect(state.introspect(token, T0)).toEqual({
      active: false,
      reason: 'deleted',
      sub: id,
      scopes: ['chat'],
    });
  });

  it('reports tampered, foreign and garbage tokens as invalid', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const token = issue(store, signer, id, T0);
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: id, scp: ['voip'] })).toString('base64url');
    const foreign = new TokenSigner(otherKey, ISSUER, RESOURCE).issue(id, ['chat'], 60, T0).token;
    for (const bad of [`${header}.${forged}.${signature}`, foreign, 'not.a.jwt', '']) {
      expect(state.introspect(bad, T0)).toEqual({ active: false, reason: 'invalid' });
    }
  });

  it('reports tokens of forgotten identities as invalid, and Teams tokens as active', () => {
    const { state, store, signer } = setup();
    const id = store.create(T0);
    const token = issue(store, signer, id, T0);
    store.clear();
    expect(state.introspect(token, T0)).toEqual({ active: false, reason: 'invalid' });
    const teams = signer.issue('8:orgid:user-1', ['voip'], 60, T0).token;
    expect(state.introspect(teams, T0)).toEqual({
      active: true,
      sub: '8:orgid:user-1',
      scopes: ['voip'],
    });
  });
});

describe('EmulatorState faults', () => {
  it('merges patches, clears the operations filter with null, and rejects bad values', async () => {
    const store = new IdentityStore(RESOURCE);
    const signer = new TokenSigner(await createSigningKey(), ISSUER, RESOURCE);
    const state = new EmulatorState(store, signer, () => 0.5, { latencyMs: 5 });
    expect(state.setFaults({ errorRate: 0.5, operations: ['createUser'] })).toEqual({
      latencyMs: 5,
      errorStatus: 503,
      errorRate: 0.5,
      retryAfterSeconds: 1,
      dropRate: 0,
      dropAfterCommitRate: 0,
      malformedRate: 0,
      operations: ['createUser'],
    });
    expect(state.setFaults({ operations: null }).operations).toBeUndefined();
    expect(() => state.setFaults({ dropRate: -0.1 })).toThrow(
      "'dropRate' must be a number between 0 and 1.",
    );
    expect(state.faults().dropRate).toBe(0);
  });
});
