import fc from 'fast-check';
import type { Services } from '../../../shared/container';
import { ServiceError } from '../../../shared/services/errors';
import { makeTestServices } from '../../helpers/test-services';

describe('SyncService over the embedded store', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  beforeEach(() => ({ services, cleanup } = makeTestServices()));
  afterEach(() => cleanup());

  it('persists a sync and reads it back with field metadata', async () => {
    const result = await services.sync.sync('u1', { data: { name: 'Ann', role: 'member' } }, 'admin');
    expect(result).toMatchObject({
      success: true,
      userId: 'u1',
      version: 1,
      applied: ['name', 'role'],
      rejected: [],
    });
    const profile = await services.sync.get('u1');
    expect(profile?.data).toEqual({ name: 'Ann', role: 'member' });
    expect(profile?.fields.name?.source).toBe('admin');
  });

  it('refuses a baseVersion ahead of the profile as a conflict and counts it as a client rejection', async () => {
    await services.sync.sync('u1', { data: { a: 1 } }, 'admin');
    await expect(services.sync.sync('u1', { data: { a: 2 }, baseVersion: 9 }, 'user')).rejects.toMatchObject({
      kind: 'conflict',
    } satisfies Partial<ServiceError>);
    const m = services.syncMetrics.snapshot();
    expect(m).toMatchObject({
      syncCount: 2,
      rejectedSyncs: 1,
      failedSyncs: 0,
      successRate: 1,
      syncHealth: 'EXCELLENT',
    });
  });

  it('deletes a user and reports whether it existed', async () => {
    await services.sync.sync('u1', { data: { a: 1 } }, 'admin');
    expect(await services.sync.delete('u1', 'admin')).toBe(true);
    expect(await services.sync.get('u1')).toBeUndefined();
    expect(await services.sync.delete('u1', 'admin')).toBe(false);
  });

  it('40 concurrent writers of distinct fields on one user lose nothing', async () => {
    const writers = Array.from({ length: 40 }, (_, i) =>
      services.sync.sync('hot', { data: { [`f${i}`]: i } }, i % 2 ? 'user' : 'admin'),
    );
    const results = await Promise.all(writers);
    const profile = await services.sync.get('hot');
    for (let i = 0; i < 40; i++) expect(profile?.data[`f${i}`]).toBe(i);
    expect(profile?.version).toBe(40);
    expect(new Set(results.map((r) => r.version)).size).toBe(40);
  });

  it('property: N concurrent writers of distinct fields all survive, whatever the mix of writers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<'admin' | 'user' | 'service'>('admin', 'user', 'service'), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.integer({ min: 0, max: 1_000_000 }),
        async (writers, seed) => {
          const userId = `p${seed}`;
          await Promise.all(
            writers.map((writer, i) =>
              services.sync.sync(userId, { data: { [`w${i}`]: `${writer}-${i}` } }, writer),
            ),
          );
          const profile = await services.sync.get(userId);
          writers.forEach((writer, i) => expect(profile?.data[`w${i}`]).toBe(`${writer}-${i}`));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('gives up with an unavailable error (a server-side failure) when retries are exhausted', async () => {
    const strict = makeTestServices({ BRIDGE_SYNC_MAX_RETRIES: '0' });
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          strict.services.sync.sync('contended', { data: { [`f${i}`]: i } }, 'admin'),
        ),
      );
      const failed = outcomes.filter((o) => o.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed)
        expect((f as PromiseRejectedResult).reason).toMatchObject({ kind: 'unavailable' });
      const m = strict.services.syncMetrics.snapshot();
      expect(m.failedSyncs).toBe(failed.length);
      expect(m.successRate).toBeLessThan(1);
    } finally {
      await strict.cleanup();
    }
  });
});
