/**
 * The sync's idempotency markers and write preconditions, which make queued operations (batch items,
 * import lines) apply at most once however often they are delivered.
 */
import { makeTestServices } from '../../helpers/test-services';
import { ServiceError } from '../../../shared/services/errors';
import type { Services } from '../../../shared/container';

let services: Services;
let cleanup: () => Promise<void>;
beforeEach(() => {
  ({ services, cleanup } = makeTestServices());
});
afterEach(() => cleanup());

const events = async (userId: string) =>
  (
    await services.events.replay({
      types: ['user_update', 'user_delete'],
      subject: userId,
      limit: 100,
    })
  ).events;

it('a write named by an id is applied once: a replay returns the recorded outcome, even after other writes', async () => {
  const first = await services.sync.sync('ann', { data: { step: 1 } }, 'admin', { idempotencyId: 'op-1' });
  expect(first).toMatchObject({ version: 1, changed: true });
  await services.sync.sync('ann', { data: { step: 2 } }, 'user');
  const replay = await services.sync.sync('ann', { data: { step: 1 } }, 'admin', { idempotencyId: 'op-1' });
  expect(replay).toMatchObject({ version: 1, changed: true, data: { step: 1 } });
  expect((await services.sync.get('ann'))?.data).toEqual({ step: 2 });
  expect(await events('ann')).toHaveLength(2);
});

it('a write that changed nothing still spends its id', async () => {
  await services.sync.sync('bob', { data: { a: 1 } }, 'admin');
  expect(
    await services.sync.sync('bob', { data: { a: 1 } }, 'admin', { idempotencyId: 'op-2' }),
  ).toMatchObject({ changed: false, version: 1 });
  await services.sync.sync('bob', { data: { a: 2 } }, 'admin');
  const replay = await services.sync.sync('bob', { data: { a: 1 } }, 'admin', { idempotencyId: 'op-2' });
  expect(replay).toMatchObject({ changed: false, version: 1 });
  expect((await services.sync.get('bob'))?.data).toEqual({ a: 2 });
});

it('concurrent deliveries of one id apply it once', async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, () =>
      services.sync.sync('cat', { data: { n: 1 } }, 'admin', { idempotencyId: 'op-3' }),
    ),
  );
  expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
  expect(await events('cat')).toHaveLength(1);
});

it('createOnly refuses an existing user, but a replay of the create returns its success', async () => {
  const created = await services.sync.sync('dan', { data: { a: 1 } }, 'admin', {
    createOnly: true,
    idempotencyId: 'op-4',
  });
  expect(created.version).toBe(1);
  expect(
    await services.sync.sync('dan', { data: { a: 1 } }, 'admin', { createOnly: true, idempotencyId: 'op-4' }),
  ).toMatchObject({ version: 1 });
  await expect(
    services.sync.sync('dan', { data: { a: 9 } }, 'admin', { createOnly: true }),
  ).rejects.toMatchObject({ kind: 'conflict' });
  // A deleted user may be created again.
  await services.sync.delete('dan', 'admin');
  expect(await services.sync.sync('dan', { data: { b: 1 } }, 'admin', { createOnly: true })).toMatchObject({
    version: 3,
    data: { b: 1 },
  });
});

it('mustExist refuses to create a user', async () => {
  const attempt = services.sync.sync('eve', { data: { a: 1 } }, 'admin', { mustExist: true });
  await expect(attempt).rejects.toBeInstanceOf(ServiceError);
  await expect(attempt).rejects.toMatchObject({ kind: 'not-found' });
  expect(await services.sync.get('eve')).toBeUndefined();
});

it('a delete named by an id is applied once', async () => {
  await services.sync.sync('fay', { data: { a: 1 } }, 'admin');
  expect(await services.sync.delete('fay', 'admin', { idempotencyId: 'op-5' })).toBe(true);
  await services.sync.sync('fay', { data: { a: 2 } }, 'admin'); // created again
  expect(await services.sync.delete('fay', 'admin', { idempotencyId: 'op-5' })).toBe(true); // the replay
  expect((await services.sync.get('fay'))?.data).toEqual({ a: 2 });
});
