import type { Services } from '../../../shared/container';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

describe('ApiKeyService', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  beforeEach(() => ({ services, cleanup } = makeTestServices()));
  afterEach(() => cleanup());

  it('accepts the bootstrap key as admin', async () => {
    expect(await services.apiKeys.authenticate(TEST_ADMIN_KEY)).toMatchObject({
      role: 'admin',
      keyId: 'bootstrap',
    });
  });

  it('issues a key that authenticates with its role and is stored only as a hash', async () => {
    const issued = await services.apiKeys.issue('user', 'user portal');
    expect(await services.apiKeys.authenticate(issued.key)).toEqual({
      kind: 'key',
      keyId: issued.id,
      role: 'user',
      name: 'user portal',
    });
    const stored = await services.store.read<Record<string, unknown>>('state', 'apikeys', issued.id);
    expect(JSON.stringify(stored?.body)).not.toContain(issued.key.split('_')[2]);
    expect(await services.apiKeys.list()).toEqual([
      { id: issued.id, role: 'user', name: 'user portal', createdAt: issued.createdAt },
    ]);
  });

  it('refuses a forged secret for an existing key id, and unknown formats', async () => {
    const issued = await services.apiKeys.issue('service', 'svc');
    const forged = `${issued.key.slice(0, -4)}AAAA`;
    expect(await services.apiKeys.authenticate(forged)).toBeUndefined();
    expect(await services.apiKeys.authenticate('not-a-key')).toBeUndefined();
  });

  it('revokes a key at once on this instance, even when it was cached', async () => {
    const issued = await services.apiKeys.issue('user', 'portal');
    expect(await services.apiKeys.authenticate(issued.key)).toBeDefined();
    expect(await services.apiKeys.revoke(issued.id)).toBe(true);
    expect(await services.apiKeys.authenticate(issued.key)).toBeUndefined();
    expect(await services.apiKeys.revoke(issued.id)).toBe(false);
  });
});
