/**
 * The event-log / replay-cursor contract: every kind of store the bridge runs on (the embedded
 * store: one feed range; a partitioned store: several ranges with independent LSNs) must give
 * replay, the cursor after each event, head, expiry and the sweeper checkpoint the same meaning:
 * paging never skips or repeats a committed event.
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/container';
import type { BridgeCloudEvent } from '../../shared/domain/cloud-event';
import type { DocumentStore } from '../../shared/ports/document-store';
import type { MessageSender, OutgoingMessage } from '../../shared/ports/message-sender';
import { keyPrincipal } from '../../shared/services/principal';
import { ServiceError } from '../../shared/services/errors';
import { ManualClock, TEST_ADMIN_KEY } from '../helpers/test-services';

export interface EventLogFixture {
  store: DocumentStore;
  /** Partitioned stores: split the range holding `pk` (its children continue its positions). */
  split?: (container: string, pk?: string) => void;
  cleanup: () => Promise<void>;
}

export type EventLogFactory = (clock: ManualClock) => Promise<EventLogFixture>;

/** A bus that accepts everything (the log's contract does not depend on the bus). */
export class AcceptingSender implements MessageSender {
  readonly sent: OutgoingMessage[] = [];
  async send(_entity: string, messages: OutgoingMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
  async close(): Promise<void> {}
}

const CONTAINER = 'state';
const PUBLISHER = keyPrincipal('k1', 'service', 'contract');

export function describeEventLogContract(name: string, factory: EventLogFactory): void {
  describe(`event log contract: ${name}`, () => {
    let services: Services;
    let fixture: EventLogFixture;
    let clock: ManualClock;
    let dataDir: string;

    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await factory(clock);
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-log-'));
      const config = loadConfig({
        BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
        BRIDGE_DATA_DIR: dataDir,
        BRIDGE_EVENTS_FAST_PATH: 'false',
        // The sweeper's checkpoint is a bus-topic mechanism (the outbox topic has its own lease).
        BRIDGE_EVENT_TOPIC: 'bus',
        COSMOS_CONTAINER: CONTAINER,
      });
      services = createServices(config, { store: fixture.store, clock, bus: new AcceptingSender() });
    });
    afterEach(async () => {
      await services.close();
      await fixture.cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    let counter = 0;
    /** Publishes one event; the clock moves on, so commit times order events across ranges. */
    const publish = (subject = `s${counter % 7}`, type = 'note') => {
      clock.advance(1);
      return services.publisher.publish(
        { type, data: { n: counter++ }, subject, id: `e${counter}` },
        PUBLISHER,
      );
    };
    const ids = (events: BridgeCloudEvent[]) => events.map((e) => e.id);

    /** Every event after `after`, paging with `limit`. */
    async function drain(after: string | undefined, limit: number) {
      const events: BridgeCloudEvent[] = [];
      let next = after;
      for (let pages = 0; pages < 10_000; pages++) {
        const page = await services.events.replay({ after: next, limit });
        events.push(...page.events);
        if (page.events.length === 0 && page.next === next) break;
        next = page.next;
      }
      return { events, next: next as string };
    }

    it('paging with `next` returns every committed event once, while writers keep committing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({ writes: fc.integer({ min: 0, max: 12 }), limit: fc.integer({ min: 1, max: 9 }) }),
            {
              minLength: 1,
              maxLength: 12,
            },
          ),
          async (steps) => {
            const written = new Set<string>();
            const seen: string[] = [];
            let next: string | undefined;
            for (const step of steps) {
              const writes = Array.from({ length: step.writes }, () => publish());
              // Pages read while these writes commit: a page never skips what commits behind it.
              const reading = services.events.replay({ after: next, limit: step.limit });
              for (const result of await Promise.all(writes)) written.add(result.id);
              const page = await reading;
              seen.push(...ids(page.events));
              next = page.next;
            }
            const rest = await drain(next, 5);
            seen.push(...ids(rest.events));
            const replayed = new Set(seen);
            expect(seen.length).toBe(replayed.size); // nothing twice
            for (const id of written) expect(replayed.has(id)).toBe(true); // nothing missed
          },
        ),
        { numRuns: 8 },
      );
    });

    it('the cursor after each event resumes exactly after it', async () => {
      for (let i = 0; i < 40; i++) await publish();
      const read = await services.events.read(services.events.parseCursor('0'), 1000);
      expect(read.entries).toHaveLength(40);
      expect(read.caughtUp).toBe(true);
      for (const i of [0, 1, 7, 20, 38, 39]) {
        const entry = read.entries[i]!;
        const { events } = await drain(services.events.formatCursor(entry.cursor), 1000);
        expect(ids(events).sort()).toEqual(
          read.entries
            .slice(i + 1)
            .map((e) => e.event.id)
            .sort(),
        );
      }
    });

    it('events of one subject come in commit order (one aggregate stays in one range)', async () => {
      for (let v = 0; v < 15; v++) {
        await services.sync.sync('ann', { data: { step: v } }, 'admin');
        await publish('bob');
      }
      const { events } = await drain(undefined, 4);
      const versions = events
        .filter((e) => e.type === 'user_update')
        .map((e) => (e.data as { version: number }).version);
      expect(versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    });

    it('filters skip events but move the cursor past them', async () => {
      await publish('ann', 'a');
      await publish('bob', 'b');
      await publish('ann', 'b');
      const byType = await services.events.replay({ types: ['b'], limit: 10 });
      expect(byType.events.map((e) => e.subject)).toEqual(['bob', 'ann']);
      const bySubject = await services.events.replay({ subject: 'ann', limit: 10 });
      expect(bySubject.events.map((e) => e.type)).toEqual(['a', 'b']);
      const visible = await services.events.replay({ visible: (e) => e.subject === 'bob', limit: 10 });
      expect(visible.events.map((e) => e.subject)).toEqual(['bob']);
      // Nothing after the filtered page's cursor: it moved past the events it skipped.
      expect((await services.events.replay({ after: byType.next, limit: 10 })).events).toEqual([]);
    });

    it('head: what commits after it is replayed from it, nothing before', async () => {
      for (let i = 0; i < 5; i++) await publish();
      const head = services.events.formatCursor(await services.events.head());
      expect((await services.events.replay({ after: head, limit: 10 })).events).toEqual([]);
      const later = [await publish(), await publish()];
      const { events } = await drain(head, 1);
      expect(ids(events).sort()).toEqual(later.map((l) => l.id).sort());
    });

    it('an empty log: head is a cursor from which every later event is replayed', async () => {
      const head = services.events.formatCursor(await services.events.head());
      const first = await publish();
      expect(ids((await drain(head, 10)).events)).toEqual([first.id]);
    });

    it('cursors: malformed ones are a validation error, 0 is the beginning', async () => {
      await publish();
      for (const bad of [
        'abc',
        '-1',
        '1.5',
        'r1.not-json',
        'r1.',
        `r1.${Buffer.from('{"p":[["","FF",-1]]}').toString('base64url')}`,
      ]) {
        const error = await services.events.replay({ after: bad, limit: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ServiceError);
        expect((error as ServiceError).kind).toBe('validation');
      }
      expect((await services.events.replay({ after: '0', limit: 10 })).events).toHaveLength(1);
      expect(() => services.events.parseCursor('x'.repeat(10_000))).toThrow(ServiceError);
    });

    it('expiry: a cursor older than the retention is expired; the beginning and fresh cursors are not', async () => {
      await publish();
      const fresh = (await services.events.read(services.events.parseCursor('0'), 10)).entries[0]!.cursor;
      expect(await services.events.isExpired(fresh)).toBe(false);
      expect(await services.events.isExpired(services.events.parseCursor('0'))).toBe(false);
      clock.advance(8 * 86_400_000); // past the default 7-day retention
      await publish();
      expect(await services.events.isExpired(fresh)).toBe(true);
      expect(await services.events.isExpired(services.events.parseCursor('0'))).toBe(false);
      const head = await services.events.head();
      expect(await services.events.isExpired(head)).toBe(false);
    });

    it('the sweeper finds every unpublished event and its checkpoint never passes one', async () => {
      const events = [];
      for (let i = 0; i < 30; i++) events.push(await publish());
      // Publish (and mark) every other event, as the fast path would.
      const all = (await services.events.read(services.events.parseCursor('0'), 100)).entries;
      await services.propagator.propagate(all.filter((_, i) => i % 2 === 0).map((e) => e.item));
      const first = await services.events.scanPending(services.propagator, { advanceCheckpoint: true });
      expect(first.pending.map((p) => p.body.event.id).sort()).toEqual(
        all
          .filter((_, i) => i % 2 === 1)
          .map((e) => e.event.id)
          .sort(),
      );
      // Later events, then the rest published: nothing is left behind by the checkpoint.
      for (let i = 0; i < 10; i++) events.push(await publish());
      const second = await services.events.scanPending(services.propagator, { advanceCheckpoint: true });
      expect(second.pending).toHaveLength(15 + 10);
      await services.propagator.propagate(second.pending);
      const third = await services.events.scanPending(services.propagator, { advanceCheckpoint: true });
      expect(third.pending).toEqual([]);
      await publish();
      const fourth = await services.events.scanPending(services.propagator, { advanceCheckpoint: true });
      expect(fourth.pending).toHaveLength(1);
      expect(events).toHaveLength(40);
    });

    it('a cursor taken before a feed range split resumes with no gap and no repeat', async () => {
      if (!fixture.split) return; // one range: nothing can split
      for (let i = 0; i < 20; i++) await publish();
      const before = await drain(undefined, 6);
      fixture.split(CONTAINER);
      const later = [];
      for (let i = 0; i < 20; i++) later.push((await publish()).id);
      const after = await drain(before.next, 3);
      expect(ids(after.events).sort()).toEqual(later.sort());
      // And the sweeper's checkpoint, written before the split, still finds everything.
      const scan = await services.events.scanPending(services.propagator);
      expect(scan.pending).toHaveLength(40);
    });
  });
}
