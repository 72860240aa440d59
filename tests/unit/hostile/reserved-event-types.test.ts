import { eventsPublish } from '../../../functions/events-publish';
import { operationsCreate } from '../../../functions/operations-create';
import { setServices, type Services } from '../../../shared/container';
import { BRIDGE_EVENT_TYPES, reservedEventType } from '../../../shared/domain/cloud-event';
import { outboxOperation } from '../../../shared/services/event-outbox';
import { keyPrincipal } from '../../../shared/services/principal';
import { invokeHandler } from '../../helpers/invoke-handler';
import { makeTestServices } from '../../helpers/test-services';

describe('reserved event types (issue 9 item 8)', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let userKey: string;

  beforeEach(async () => {
    ({ services, cleanup } = makeTestServices());
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  const spoofed = BRIDGE_EVENT_TYPES.flatMap((t) => [t, t.toUpperCase(), t[0]?.toUpperCase() + t.slice(1)]);

  it.each(spoofed)('POST /api/events refuses %s with a 400 naming the reserved type', async (type) => {
    const before = (await services.events.replay({ limit: 100 })).events.length;
    const res = await invokeHandler(eventsPublish, {
      method: 'POST',
      key: userKey,
      body: { type, data: {} },
    });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.raw) as { errors: { path: string; message: string }[] };
    expect(body.errors[0]?.path).toBe('/type');
    expect(body.errors[0]?.message).toContain(reservedEventType(type));
    expect((await services.events.replay({ limit: 100 })).events.length).toBe(before);
  });

  it.each(spoofed)('the publish command refuses %s at once', async (type) => {
    const res = await invokeHandler(operationsCreate, {
      method: 'POST',
      key: userKey,
      body: { command: 'publish_event', type, data: {} },
    });
    expect(res.status).toBe(400);
    expect(res.raw).toContain(`${reservedEventType(type)} itself`);
  });

  it('the service refuses reserved types too (commands put on the queue directly)', async () => {
    await expect(
      services.publisher.publish({ type: 'Tokens_Granted', data: {} }, keyPrincipal('k', 'user', 'p')),
    ).rejects.toMatchObject({ kind: 'validation' });
  });

  it('portal types that merely resemble bridge types are allowed', async () => {
    const res = await invokeHandler(eventsPublish, {
      method: 'POST',
      key: userKey,
      body: { type: 'user_update_requested', data: {} },
    });
    expect(res.status).toBe(202);
  });

  it('the outbox refuses a bridge event whose type is not in the one list', () => {
    const event = {
      specversion: '1.0' as const,
      id: 'x:1',
      source: '/bridge/users/ann',
      type: 'user_renamed',
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json' as const,
      data: {},
    };
    const limits = { retentionSeconds: 60, maxEventBytes: 256 * 1024 };
    expect(() => outboxOperation(1, event, 0, limits)).toThrow(/BRIDGE_EVENT_TYPES/);
    expect(() => outboxOperation(1, { ...event, type: 'user_update' }, 0, limits)).not.toThrow();
  });
});
