import type { Services } from '../../../shared/container';
import { ManualClock, makeTestServices } from '../../helpers/test-services';

describe('StateService', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  const clock = new ManualClock();
  beforeEach(() => ({ services, cleanup } = makeTestServices({}, clock)));
  afterEach(() => cleanup());

  it('versions each write and returns a new ETag', async () => {
    const a = await services.state.put('flags', { value: { beta: true } });
    const b = await services.state.put('flags', { value: { beta: false } });
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(a.etag).not.toBe(b.etag);
    expect((await services.state.get('flags'))?.value).toEqual({ beta: false });
  });

  it('honours If-Match and If-None-Match: *', async () => {
    const a = await services.state.put('k', { value: 1 });
    await expect(services.state.put('k', { value: 2, ifMatch: '"nope"' })).rejects.toMatchObject({
      kind: 'precondition-failed',
    });
    await expect(services.state.put('k', { value: 2, ifNoneMatch: '*' })).rejects.toMatchObject({
      kind: 'precondition-failed',
    });
    await expect(services.state.put('missing', { value: 2, ifMatch: '*' })).rejects.toMatchObject({
      kind: 'precondition-failed',
    });
    const b = await services.state.put('k', { value: 2, ifMatch: a.etag });
    expect(b.version).toBe(2);
    await expect(services.state.delete('k', a.etag)).rejects.toMatchObject({ kind: 'precondition-failed' });
    expect(await services.state.delete('k', b.etag)).toBe(true);
    expect(await services.state.delete('k')).toBe(false);
  });

  it('expires an entry after ttlSeconds and counts only live entries', async () => {
    await services.state.put('session', { value: 'x', ttlSeconds: 60 });
    await services.state.put('durable', { value: 'y' });
    expect(await services.state.size()).toBe(2);
    clock.advance(61_000);
    expect(await services.state.get('session')).toBeUndefined();
    expect(await services.state.size()).toBe(1);
  });
});
