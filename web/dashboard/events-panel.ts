/**
 * The live event tail: the newest events of the replay log (GET /api/events), then every event
 * committed after them, polled each second, with a type filter. Replay pages forward from a cursor,
 * so the page first finds where the log ends (a binary search over `after`, a few dozen tiny
 * requests) and shows the last events before it.
 */
import { api } from './api';
import { byId, fill, h, table } from './dom';
import { clock } from './format';
import type { CloudEvent, EventsPage } from './types';

/** Events kept in the tail, and shown at first. */
const KEEP = 300;
const BACKFILL = 30;

const hasEventsAfter = async (after: number) =>
  (await api<EventsPage>('GET', `/events?after=${after}&limit=1`)).events.length > 0;

/** The sequence of the last committed event (0 when there is none). */
async function findEnd(): Promise<number> {
  if (!(await hasEventsAfter(0))) return 0;
  let low = 0; // some event lies after low …
  let high = 1024; // … and (once found) none after high
  while (await hasEventsAfter(high)) {
    low = high;
    high *= 8;
    if (high > 1e15) return high;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await hasEventsAfter(middle)) low = middle;
    else high = middle;
  }
  return high;
}

export class EventsPanel {
  private events: CloudEvent[] = [];
  private cursor: string | undefined;
  private readonly types = new Set<string>();
  private readonly filter = byId<HTMLInputElement>('event-filter');

  constructor() {
    this.filter.addEventListener('input', () => this.render());
  }

  /** One poll: the first finds the end of the log and backfills; later ones fetch what is new. */
  async load(): Promise<void> {
    if (this.cursor === undefined) {
      const end = await findEnd();
      let window = 64;
      let page: EventsPage = { events: [], next: String(end) };
      while (end > 0) {
        page = await api<EventsPage>('GET', `/events?after=${Math.max(0, end - window)}&limit=1000`);
        if (page.events.length >= BACKFILL || end - window <= 0) break;
        window *= 8;
      }
      this.add(page.events.slice(-BACKFILL));
      this.cursor = page.events.length > 0 ? page.next : String(end);
      byId('events-source').textContent = 'Polling GET /api/events every second.';
      return;
    }
    let cursor = this.cursor;
    for (let pages = 0; pages < 5; pages++) {
      const page: EventsPage = await api<EventsPage>(
        'GET',
        `/events?after=${encodeURIComponent(cursor)}&limit=200`,
      );
      cursor = page.next;
      this.cursor = cursor;
      this.add(page.events);
      if (page.events.length < 200) break;
    }
  }

  /** Events from another source (the live stream), newest last. */
  add(events: CloudEvent[]): void {
    if (events.length === 0) {
      this.render();
      return;
    }
    const known = new Set(this.events.map((e) => e.id));
    for (const event of events) {
      if (known.has(event.id)) continue;
      this.events.push(event);
      if (!this.types.has(event.type)) {
        this.types.add(event.type);
        fill(byId('event-types'), ...[...this.types].sort().map((t) => h('option', { value: t })));
      }
    }
    if (this.events.length > KEEP) this.events = this.events.slice(-KEEP);
    this.render();
  }

  private render(): void {
    const wanted = this.filter.value.trim();
    const shown = this.events
      .filter((e) => wanted === '' || e.type === wanted)
      .slice(-100)
      .reverse();
    table(
      byId<HTMLTableElement>('events-table'),
      ['Sequence', 'Time', 'Type', 'Subject', 'Id', 'Data'],
      shown.map((e) => [
        e.sequence ?? '—',
        clock(e.time),
        e.type,
        e.subject ?? '—',
        e.id,
        h('code', {}, summarise(e.data)),
      ]),
      wanted === '' ? 'No events yet.' : `No ${wanted} events among the last ${this.events.length}.`,
    );
    const table_ = byId('events-table');
    table_.dataset.count = String(this.events.length);
    table_.dataset.last = this.events[this.events.length - 1]?.id ?? '';
  }
}

function summarise(data: unknown): string {
  const text = JSON.stringify(data) ?? '';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
