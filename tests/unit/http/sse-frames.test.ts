/**
 * The SSE frames of a run of live events: the same bytes as the events' frames one by one, built
 * once for every stream that sends the same run.
 */
import type { LogEntry } from '../../../shared/services/event-log';
import { encodeMessage } from '../../../shared/http/sse';
import type { StreamMessage } from '../../../shared/services/event-stream-session';

const entry = (n: number) =>
  ({ event: { id: `e${n}`, type: 'note', data: { text: `line\nbreak ${n}` } } }) as unknown as LogEntry;
const idOf = (e: LogEntry) => `c-${(e.event as { id: string }).id}`;
const run = (entries: LogEntry[]): StreamMessage => ({
  kind: 'events',
  entries,
  cursor: idOf(entries[entries.length - 1]!),
  idOf,
});
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('SSE frames of a run', () => {
  const entries = [entry(1), entry(2), entry(3)];

  it('are the frames of its events one by one, in order', () => {
    const one = entries
      .map((e) => text(encodeMessage({ kind: 'event', entry: e, cursor: idOf(e), shared: true }, 30)))
      .join('');
    expect(text(encodeMessage(run(entries), 30))).toBe(one);
    expect(one).toContain('id: c-e2\ndata: {"id":"e2","type":"note","data":{"text":"line\\nbreak 2"}}\n\n');
  });

  it('are built once for streams sending the same run; a different run from the same event is its own', () => {
    const first = encodeMessage(run(entries), 30);
    expect(encodeMessage(run([...entries]), 30)).toBe(first);
    const shorter = encodeMessage(run(entries.slice(0, 2)), 30);
    expect(text(shorter)).toBe(text(first).split('\n\n').slice(0, 2).join('\n\n') + '\n\n');
  });
});
