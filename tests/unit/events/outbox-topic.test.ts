/**
 * The outbox as the bridge-events topic (BRIDGE_EVENT_TOPIC=outbox): consumers take events live
 * from commit notifications and durably from the event feed behind a checkpoint; a failing event
 * is retried, then quarantined, and never holds back another; memory stays bounded.
 */
import type { InvocationContext } from '@azure/functions';
import { OutboxTopicRunner } from '../../../local/outbox-topic-runner';
import { topicRegistration } from '../../helpers/registrations';
import { SqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import type { SubscriptionSpec } from '../../../shared/domain/bus-topology';
import {
  busMessageId,
  EVENT_MARK_DOC_TYPE,
  eventMarkDocId,
  type BridgeCloudEvent,
} from '../../../shared/domain/cloud-event';
import type { DocumentCollection } from '../../../shared/ports/document-store';
import { EventLog } from '../../../shared/services/event-log';
import { EventMetrics } from '../../../shared/services/event-metrics';
import { outboxOperation, toOutboxItem, type OutboxItem } from '../../../shared/services/event-outbox';
import { EventQuarantine } from '../../../shared/services/event-quarantine';
import { OutboxEventTopic, type OutboxConsumerSpec } from '../../../shared/services/outbox-event-topic';

const ALL: SubscriptionSpec = { name: 'webhooks', maxDeliveryCount: 3 };
const LIMITS = { retentionSeconds: 3600, maxEventBytes: 192 * 1024 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** One store (shared by "restarts"), its collections, and a topic built over them. */
function world() {
  const store = new SqliteDocumentStore({ path: ':memory:', purgeIntervalMs: 0 });
  const docs: DocumentCollection = store.collection('state');
  const leases: DocumentCollection = store.collection('leases');
  const clock = { now: () => Date.now() };
  const quarantine = new EventQuarantine(docs, clock, 3600);
  let n = 0;
  /** Commits a user_update event the way the services do; returns its outbox item. */
  const commit = async (type = 'user_update'): Promise<OutboxItem> => {
    n += 1;
    const op = outboxOperation(
      n,
      {
        specversion: '1.0',
        id: `evt-${n}`,
        source: '/test',
        type,
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { n },
      },
      Date.now(),
      LIMITS,
    );
    const [result] = await docs.batch(`p${n % 3}`, [op]);
    return toOutboxItem(`p${n % 3}`, op, result?.seq) as OutboxItem;
  };
  const topic = (maxQueued = 100) =>
    new OutboxEventTopic({
      store: docs,
      leases,
      clock,
      metrics: new EventMetrics(),
      quarantine,
      log: new EventLog(docs, clock),
      maxQueued,
      checkIntervalMs: 10,
    });
  return { store, docs, leases, quarantine, commit, topic };
}

/** A consumer recording what it got; `fail` decides per event whether this delivery throws. */
function recorder(fail: (event: BridgeCloudEvent, deliveryCount: number) => boolean = () => false) {
  const got: { id: string; deliveryCount: number; sequence?: string }[] = [];
  const spec = (subscription = ALL): OutboxConsumerSpec => ({
    topic: 'bridge-events',
    subscription,
    maxConcurrentCalls: 4,
    handler: async (event, delivery) => {
      got.push({ id: event.id, deliveryCount: delivery.deliveryCount, sequence: event.sequence });
      if (fail(event, delivery.deliveryCount)) throw new Error(`refused ${event.id}`);
    },
  });
  const ids = () => got.filter((g) => g.deliveryCount >= 1).map((g) => g.id);
  return { got, spec, ids };
}

test('delivers each committed event from its commit notification, with its sequence, once', async () => {
  const w = world();
  const topic = w.topic();
  const r = recorder();
  const stop = await topic.consume(r.spec());
  const items = [await w.commit(), await w.commit(), await w.commit()];
  topic.publishSoon(items);
  await waitFor(() => r.got.length === 3, 'three deliveries');
  expect(r.got.map((g) => g.id).sort()).toEqual(['evt-1', 'evt-2', 'evt-3']);
  expect(r.got.every((g) => g.deliveryCount === 1 && /^\d{16}$/.test(g.sequence ?? ''))).toBe(true);
  // The handler ran (it records on entry); its call settles once the turn's promise jobs have run.
  await new Promise((resolve) => setImmediate(resolve));
  for (const item of items) expect(await topic.isPublished(item)).toBe(true);
  // Nothing was copied: the store holds the three event documents and the consumer's lease only.
  expect(await w.docs.count({})).toBe(3);
  await stop();
  expect(r.got).toHaveLength(3);
  await w.store.close();
});

test('events committed with no notification (a restart, another process) come from the feed after the checkpoint', async () => {
  const w = world();
  const first = w.topic();
  const r1 = recorder();
  const stop1 = await first.consume(r1.spec());
  first.publishSoon([await w.commit(), await w.commit()]);
  await waitFor(() => r1.got.length === 2, 'the first two');
  await stop1(); // records the checkpoint
  // Committed while no consumer runs (and no notification reaches anyone).
  await w.commit();
  await w.commit();
  const second = w.topic();
  const r2 = recorder();
  const stop2 = await second.consume(r2.spec());
  await waitFor(() => r2.got.length === 2, 'the two missed events');
  expect(r2.ids().sort()).toEqual(['evt-3', 'evt-4']);
  // A later one arrives live; nothing is delivered twice.
  second.publishSoon([await w.commit()]);
  await waitFor(() => r2.got.length === 3, 'the live one');
  await sleep(50);
  expect(r2.ids().sort()).toEqual(['evt-3', 'evt-4', 'evt-5']);
  await stop2();
  await w.store.close();
});

test('after a crash (no orderly stop) everything past the recorded checkpoint is delivered again', async () => {
  const w = world();
  const crashed = w.topic();
  const r1 = recorder();
  await crashed.consume(r1.spec()); // never stopped: the "process" dies
  const items = [await w.commit(), await w.commit(), await w.commit()];
  crashed.publishSoon(items);
  await waitFor(() => r1.got.length === 3, 'deliveries before the crash');
  const restarted = w.topic();
  const r2 = recorder();
  const stop = await restarted.consume(r2.spec());
  await sleep(100);
  // At least once: whatever the crashed consumer had not checkpointed comes again; nothing is lost.
  const all = new Set([...r1.ids(), ...r2.ids()]);
  expect([...all].sort()).toEqual(['evt-1', 'evt-2', 'evt-3']);
  await stop();
  await crashed.drain();
  await w.store.close();
});

test('a failing event is retried with its delivery count, then quarantined; the others are not held back', async () => {
  const w = world();
  const topic = w.topic();
  const r = recorder((event) => event.id === 'evt-2');
  const stop = await topic.consume(r.spec());
  const items = [await w.commit(), await w.commit(), await w.commit()];
  topic.publishSoon(items);
  await waitFor(() => r.got.some((g) => g.id === 'evt-3'), 'the event after the failing one');
  // evt-3 went out on its first turn, before evt-2 had used up its retries.
  expect(r.got.filter((g) => g.id === 'evt-2').length).toBeLessThan(ALL.maxDeliveryCount);
  await waitFor(() => r.got.filter((g) => g.id === 'evt-2').length === ALL.maxDeliveryCount, 'all retries');
  expect(r.got.filter((g) => g.id === 'evt-2').map((g) => g.deliveryCount)).toEqual([1, 2, 3]);
  await waitFor(() => topic.backlog() === 0, 'the quarantine');
  const { items: quarantined } = await w.quarantine.list();
  expect(quarantined.map((q) => [q.eventId, q.where])).toEqual([['evt-2', 'bridge-events/webhooks']]);
  expect(quarantined[0]?.reason).toMatch(/failed at 3 deliveries: Error: refused evt-2/);
  // Quarantined counts as handled: the checkpoint moves past it and the status is clear.
  expect(await topic.isPublished(items[1] as OutboxItem)).toBe(true);
  expect((await topic.pending()).pendingEvents).toBe(0);
  // An admin redelivers it once the cause is gone.
  const again = recorder();
  await stop();
  const second = w.topic();
  const stop2 = await second.consume(again.spec());
  await second.redeliver(items[1] as OutboxItem, 'bridge-events/webhooks');
  await waitFor(() => again.ids().includes('evt-2'), 'the redelivery');
  await stop2();
  await w.store.close();
});

test('a subscription filter skips other event types, and the checkpoint still passes them', async () => {
  const w = world();
  const topic = w.topic();
  const r = recorder();
  const stop = await topic.consume(
    r.spec({ name: 'states', eventTypes: ['state_change'], maxDeliveryCount: 3 }),
  );
  const items = [
    await w.commit('user_update'),
    await w.commit('state_change'),
    await w.commit('user_update'),
  ];
  topic.publishSoon(items);
  await waitFor(() => r.got.length === 1, 'the state change');
  expect(r.ids()).toEqual(['evt-2']);
  for (const item of items) expect(await topic.isPublished(item)).toBe(true);
  await stop();
  await w.store.close();
});

test('memory is bounded: beyond maxQueued, events wait in the store and still arrive, in full', async () => {
  const w = world();
  const topic = w.topic(5);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const got: string[] = [];
  const stop = await topic.consume({
    topic: 'bridge-events',
    subscription: ALL,
    maxConcurrentCalls: 2,
    handler: async (event) => {
      await gate;
      got.push(event.id);
    },
  });
  const items: OutboxItem[] = [];
  for (let i = 0; i < 40; i++) items.push(await w.commit());
  topic.publishSoon(items);
  // At most maxQueued known (queued or in flight); the rest were dropped from memory.
  expect(topic.backlog()).toBeGreaterThanOrEqual(5);
  expect(topic.lagMs()).toBeGreaterThanOrEqual(0);
  release();
  await waitFor(() => got.length === 40, 'all forty');
  expect(new Set(got).size).toBe(40);
  await waitFor(() => topic.backlog() === 0, 'an empty backlog');
  await stop();
  await w.store.close();
});

test('first start on data an earlier bus-topic run published: marked events are left to the bus', async () => {
  const w = world();
  const published = await w.commit();
  await w.docs.create(published.pk, {
    id: eventMarkDocId(published.docId),
    type: EVENT_MARK_DOC_TYPE,
    body: { eventId: 'evt-1', publishedAt: Date.now() },
  });
  const unpublished = await w.commit();
  const topic = w.topic();
  const r = recorder();
  const stop = await topic.consume(r.spec());
  await waitFor(() => r.got.length === 1, 'the unpublished event');
  await sleep(50);
  expect(r.ids()).toEqual(['evt-2']);
  expect(await topic.isPublished(published)).toBe(true);
  expect(await topic.isPublished(unpublished)).toBe(true);
  await stop();
  await w.store.close();
});

/** A consumer taking batches (`cardinality: 'many'`): records each call's event ids; `fail` decides per call. */
function batchRecorder(maxEvents: number, fail: (ids: string[]) => boolean = () => false) {
  const calls: { ids: string[]; counts: number[] }[] = [];
  const spec: OutboxConsumerSpec = {
    topic: 'bridge-events',
    subscription: ALL,
    maxConcurrentCalls: 1,
    handler: () => Promise.reject(new Error('a batch consumer is never called with one event')),
    batch: {
      maxEvents,
      handler: async (events, deliveries) => {
        const ids = events.map((e) => e.id);
        calls.push({ ids, counts: deliveries.map((d) => d.deliveryCount) });
        await sleep(20);
        if (fail(ids)) throw new Error(`refused ${ids.join(',')}`);
      },
    },
  };
  const delivered = () => calls.flatMap((c) => c.ids);
  return { calls, spec, delivered };
}

test('batches: what waits goes in one call, in commit order, up to maxEvents; calls count against maxConcurrentCalls', async () => {
  const w = world();
  const topic = w.topic();
  const r = batchRecorder(3);
  const stop = await topic.consume(r.spec);
  const first = await w.commit();
  topic.publishSoon([first]);
  // evt-1's call is out (one call at a time): the next five wait, then leave as 3 + 2.
  const rest = [];
  for (let i = 0; i < 5; i++) rest.push(await w.commit());
  topic.publishSoon(rest);
  await waitFor(() => r.delivered().length === 6, 'six events');
  expect(r.calls.map((c) => c.ids)).toEqual([['evt-1'], ['evt-2', 'evt-3', 'evt-4'], ['evt-5', 'evt-6']]);
  expect(r.calls.every((c) => c.counts.every((n) => n === 1))).toBe(true);
  await waitFor(() => topic.backlog() === 0, 'every call settled');
  for (const item of [first, ...rest]) expect(await topic.isPublished(item)).toBe(true);
  await stop();
  await w.store.close();
});

test('batches: a failed batch is retried event by event, so only the bad event is quarantined', async () => {
  const w = world();
  const topic = w.topic();
  const r = batchRecorder(10, (ids) => ids.includes('evt-3'));
  const stop = await topic.consume(r.spec);
  const items = [];
  for (let i = 0; i < 4; i++) items.push(await w.commit());
  topic.publishSoon(items);
  await waitFor(() => topic.backlog() === 0, 'every event handled or quarantined');
  const [firstCall, ...retries] = r.calls;
  expect(firstCall?.ids).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4']);
  // After the failure each went alone: the good ones once (their second delivery), the bad one up to the limit.
  expect(retries.every((c) => c.ids.length === 1)).toBe(true);
  for (const id of ['evt-1', 'evt-2', 'evt-4'])
    expect(retries.filter((c) => c.ids[0] === id).map((c) => c.counts[0])).toEqual([2]);
  expect(retries.filter((c) => c.ids[0] === 'evt-3').map((c) => c.counts[0])).toEqual([2, 3]);
  const { items: quarantined } = await w.quarantine.list();
  expect(quarantined.map((q) => q.eventId)).toEqual(['evt-3']);
  // Handled ones no longer go alone: new events share a call again.
  const more = [await w.commit(), await w.commit()];
  topic.publishSoon(more);
  await waitFor(() => r.delivered().includes('evt-6'), 'the next events');
  expect(r.calls[r.calls.length - 1]?.ids).toEqual(['evt-5', 'evt-6']);
  await stop();
  await w.store.close();
});

test("the local host's runner gives a cardinality-many function the batch as the trigger does", async () => {
  const w = world();
  const topic = w.topic();
  const calls: { bodies: BridgeCloudEvent[]; metadata: Record<string, unknown> }[] = [];
  const registration = topicRegistration(
    'webhooks-deliver',
    'webhooks',
    async (messages: unknown, context: InvocationContext) => {
      calls.push({ bodies: messages as BridgeCloudEvent[], metadata: context.triggerMetadata ?? {} });
    },
    { cardinality: 'many' },
  );
  const runner = new OutboxTopicRunner(registration, {
    topic,
    maxConcurrentCalls: 4,
    maxMessageBatchSize: 100,
    log: () => undefined,
  });
  const items = [await w.commit(), await w.commit()];
  await runner.start(); // takes what the store holds at once: both, in one call
  await waitFor(() => calls.length > 0, 'the call');
  await runner.stop();
  expect(calls).toHaveLength(1);
  const [call] = calls;
  expect(call?.bodies.map((e) => e.id)).toEqual(['evt-1', 'evt-2']);
  expect(call?.metadata.messageIdArray).toEqual(items.map((i) => busMessageId(i.body.event.id)));
  expect(call?.metadata.sequenceNumberArray).toEqual(items.map((i) => i.seq));
  expect(call?.metadata.deliveryCountArray).toEqual([1, 1]);
  await w.store.close();
});
