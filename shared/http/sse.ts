import type { HttpResponseInit } from '@azure/functions';
import type { LogEntry } from '../services/event-log';
import type { EventStreamSession, StreamMessage } from '../services/event-stream-session';

/**
 * The Server-Sent Events wire format of an event stream (text/event-stream, UTF-8). Frames:
 *
 *   retry: 1000                         ← in the first frame: how long EventSource waits to reconnect
 *   event: ready                        ← first (after `reset`, if any): the stream is live
 *   id: <cursor>
 *   data: {"cursor":"<cursor>","resumed":<bool>,"heartbeatSeconds":<n>}
 *
 *   id: <cursor after this event>       ← one per event; no `event:` line (EventSource "message")
 *   data: <the CloudEvent, JSON on one line>
 *
 *   : heartbeat                         ← a comment when nothing else was sent for a while
 *
 *   event: reset                        ← the cursor was older than the retention: reload state
 *   data: {"reason":"cursor-expired","after":"<the cursor sent>"}
 *
 *   event: close                        ← last: the stream ends; resume from `cursor`
 *   id: <cursor>
 *   data: {"reason":"lagging"|"max-duration"|"shutdown","cursor":"<cursor>"}
 *
 * Cursors are digits or base64url, never with line breaks; JSON.stringify escapes every newline.
 */

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';
const RECONNECT_MS = 1000;
/** Frames of waiting events sent in one chunk at most (the session's `runMax`). */
export const MAX_FRAMES_PER_CHUNK = 64;

/** An event frame whose cursor is the event's own is the same for every stream: encoded once. */
const sharedFrames = new WeakMap<LogEntry, Uint8Array>();
const encoder = new TextEncoder();
/** The frames of a run of such events, by its first entry: streams that keep step send the same. */
const sharedRuns = new WeakMap<LogEntry, { entries: readonly LogEntry[]; chunk: Uint8Array }>();

function sharedFrame(entry: LogEntry, cursor: string): Uint8Array {
  let frame = sharedFrames.get(entry);
  if (!frame) {
    frame = encoder.encode(`id: ${cursor}\ndata: ${JSON.stringify(entry.event)}\n\n`);
    sharedFrames.set(entry, frame);
  }
  return frame;
}

function sameEntries(a: readonly LogEntry[], b: readonly LogEntry[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function encodeRun(message: Extract<StreamMessage, { kind: 'events' }>): Uint8Array {
  const { entries, idOf } = message;
  const first = entries[0];
  if (!first) return new Uint8Array(0);
  const cached = sharedRuns.get(first);
  if (cached && sameEntries(cached.entries, entries)) return cached.chunk;
  const chunk =
    entries.length === 1
      ? sharedFrame(first, idOf(first))
      : Buffer.concat(entries.map((entry) => sharedFrame(entry, idOf(entry))));
  sharedRuns.set(first, { entries, chunk });
  return chunk;
}

export function encodeMessage(message: StreamMessage, heartbeatSeconds: number): Uint8Array {
  switch (message.kind) {
    case 'event':
      return message.shared
        ? sharedFrame(message.entry, message.cursor)
        : encoder.encode(`id: ${message.cursor}\ndata: ${JSON.stringify(message.entry.event)}\n\n`);
    case 'events':
      return encodeRun(message);
    case 'ready':
      return encoder.encode(
        `retry: ${RECONNECT_MS}\nevent: ready\nid: ${message.cursor}\ndata: ${JSON.stringify({
          cursor: message.cursor,
          resumed: message.resumed,
          heartbeatSeconds,
        })}\n\n`,
      );
    case 'heartbeat':
      return encoder.encode(': heartbeat\n\n');
    case 'reset':
      return encoder.encode(
        `event: reset\ndata: ${JSON.stringify({ reason: message.reason, after: message.after })}\n\n`,
      );
    case 'close':
      return encoder.encode(
        `event: close\nid: ${message.cursor}\ndata: ${JSON.stringify({ reason: message.reason, cursor: message.cursor })}\n\n`,
      );
  }
}

/**
 * The HTTP response of a stream: its body is pulled frame by frame, so nothing is produced faster
 * than the connection takes it (the host's write backpressure reaches the session). A failure after
 * the headers ends the body cleanly (the client resumes from its last cursor) and is reported.
 */
export function sseResponse(
  session: EventStreamSession,
  options: { heartbeatSeconds: number; onError: (error: unknown) => void },
): HttpResponseInit {
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: IteratorResult<StreamMessage>;
        try {
          result = await session.next();
        } catch (error) {
          options.onError(error);
          session.cancel();
          controller.close();
          return;
        }
        if (result.done) {
          controller.close();
          return;
        }
        const first = encodeMessage(result.value, options.heartbeatSeconds);
        // Events already waiting go out in the same write: one chunk for many frames under load.
        const more = result.value.kind === 'event' ? session.takeQueued(MAX_FRAMES_PER_CHUNK - 1) : [];
        if (more.length === 0) controller.enqueue(first);
        else
          controller.enqueue(
            Buffer.concat([first, ...more.map((m) => encodeMessage(m, options.heartbeatSeconds))]),
          );
      },
      cancel() {
        session.cancel();
      },
    },
    { highWaterMark: 0 },
  );
  return {
    status: 200,
    headers: {
      'content-type': SSE_CONTENT_TYPE,
      'cache-control': 'no-store',
      // Proxies that buffer (nginx) pass each frame on at once.
      'x-accel-buffering': 'no',
    },
    body,
  };
}
