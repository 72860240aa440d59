/**
 * The event-stream scenarios (issue 11): sync acknowledged → SSE subscriber.
 *
 * - `sse-open`: N subscribers on GET /api/events/stream?types=user_update, and an open loop of
 *   syncs at a fixed rate (BENCH_SSE_RATE, default 1,000/s; each request sent on schedule whatever
 *   the earlier ones did), over BENCH_SSE_USERS users.
 * - `sse-closed`: the same subscribers, and W closed-loop writers (each sends its next sync when
 *   the last one answered), which saturates the host: the throughput it reaches, latency, RSS.
 * - `sse-storm`: N subscribers during closed-loop writes; every subscriber drops its connection
 *   BENCH_SSE_DROPS times at random moments and reconnects at once with Last-Event-ID. Every event
 *   committed after a subscriber's first `ready` must reach it exactly once: gaps and duplicates
 *   are counted per client.
 *
 * Every subscriber behaves as the stream asks of a client: when the host ends its stream (a `close`
 * frame, e.g. reason `lagging` once BRIDGE_STREAM_MAX_LAG_EVENTS wait for it), it resumes at once
 * from its last cursor. "host closes" counts those; until 2026-11-30 the bench did not resume, and
 * a closed subscriber got nothing until its next scheduled drop. "resume p50/max ms" is drop →
 * `ready` of the resumed stream in the storm: a host saturated by closed-loop writers takes new
 * connections slowly (Node accepts one per event-loop turn; bench/RESULTS.md 2026-11-30), and the
 * events a subscriber misses meanwhile reach it when it is back, so they count that wait.
 *
 * Latency = a frame's arrival at a subscriber − the sync's acknowledgement (its answer fully read),
 * over every (event, subscriber) pair of the measured window; a frame that arrives before the ack
 * counts as 0 ms. lost = (event, subscriber) pairs acknowledged but never received after the drain.
 * The subscribers run on a worker thread of this process (lib/sse-subscribers.ts) and the writers
 * on the main thread, both timing with performance.timeOrigin + performance.now(). A frame's
 * arrival is when its bytes were read from the socket; the subscribers parse them (only `id:` and
 * the event id of `data:`, from bytes) in slices of about 1 ms between reads. Until 2026-11-30
 * the subscribers shared the writers' thread and timed each frame after parsing everything read
 * before it, which added 20-35 ms to sse-open's p95 (bench/RESULTS.md, 2026-11-30 notes). The
 * webhook receiver has a worker thread of its own too (lib/webhook-receiver-thread.ts), timing a
 * delivery when its body has arrived. The bench still shares the machine's 2 cores with the host,
 * so the figures err on the slow side.
 */
import * as http from 'node:http';
import { subscribeWebhook } from './propagation';
import { latencyHistogram, SubscriberThread } from './sse-subscribers';
import { ReceiverThread } from './webhook-receiver-thread';

export type SseScenario = 'sse-open' | 'sse-closed' | 'sse-storm';
export const SSE_SCENARIOS: readonly SseScenario[] = ['sse-open', 'sse-closed', 'sse-storm'];

export interface SseOptions {
  scenario: SseScenario;
  origin: string;
  prefix: string;
  adminKey: string;
  writerKey: string;
  subscribers: number;
  /** sse-open: syncs per second; the closed-loop scenarios: concurrent writers. */
  rate: number;
  writers: number;
  users: number;
  warmupS: number;
  durationS: number;
  drainCapS: number;
  /** sse-storm: reconnects per subscriber during the run. */
  drops: number;
  /** Also subscribe a webhook receiver to user_update and time sync acknowledged → webhook received. */
  webhook: boolean;
  /** The receiver's subscription takes batched deliveries of up to this many events (undefined: one per POST). */
  webhookBatch?: number;
  tag: string;
}

/** Latency percentiles and the longest, ms. */
interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Sync acknowledged → signed webhook received, over the same acknowledged syncs as the streams. */
export interface WebhookLatency extends Percentiles {
  /** Acknowledged events that never arrived after the drain. */
  lost: number;
  /** Events delivered more than once. */
  duplicated: number;
  /** Deliveries whose Standard Webhooks signature did not verify. */
  unverified: number;
  /** Accepted POSTs and the events they carried (more events than POSTs: batched delivery). */
  posts: number;
  events: number;
}

export interface SseResult extends Percentiles {
  scenario: SseScenario;
  subscribers: number;
  /** Syncs answered per second in the window (2xx and not). */
  reqPerSec: number;
  /** sse-open: scheduled syncs not sent because too many were outstanding (the host fell behind the rate). */
  notSent: number;
  syncP99: number;
  non2xx: number;
  errors: number;
  /** Syncs acknowledged in the window, and (event, subscriber) pairs measured. */
  measured: number;
  pairs: number;
  lost: number;
  /** Frames of an event a subscriber already had on that stream (or, in the storm, at all). */
  duplicated: number;
  /** sse-storm: clients with a gap / with a duplicate, and reconnects done. */
  clientsWithGaps?: number;
  clientsWithDuplicates?: number;
  reconnects?: number;
  /** sse-storm: drop → `ready` of the resumed stream, median and longest (ms). */
  resumeP50Ms?: number;
  resumeMaxMs?: number;
  /** 503s on (re)connecting (the stream limit); each was retried. */
  refused: number;
  /** Streams the host ended (a `close` frame: lagging, max-duration), each resumed at once. */
  hostCloses: number;
  drainS: number;
  peakRssBytes?: number;
  /** With `webhook`: the receiver's latency over the measured window. */
  webhook?: WebhookLatency;
}

const MAX_IN_FLIGHT = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function post(
  agent: http.Agent,
  url: URL,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function runSse(options: SseOptions): Promise<SseResult> {
  const streamUrl = `${options.origin}${options.prefix}/events/stream?types=user_update`;
  const subscribers = new SubscriberThread();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(options.writers, 256) });
  const url = new URL(options.origin);
  const headers = { 'x-api-key': options.writerKey };
  const acks = new Map<string, { at: number; measured: boolean }>();
  const syncTimes = latencyHistogram();
  const counts = { answered: 0, non2xx: 0, errors: 0, notSent: 0 };
  let seq = 0;
  const receiver = options.webhook ? new ReceiverThread() : undefined;
  try {
    if (receiver) {
      await receiver.start();
      await subscribeWebhook(options, receiver);
    }
    await subscribers.connect(streamUrl, options.adminKey, options.subscribers);
    const started = performance.now();
    const windowStart = started + options.warmupS * 1000;
    const windowEnd = windowStart + options.durationS * 1000;

    const syncOnce = async (userId: string) => {
      seq += 1;
      const body = JSON.stringify({
        data: { name: `User ${seq}`, score: seq, city: 'Leeds', tags: ['sse', options.tag] },
      });
      const sentAt = performance.now();
      let res: { status: number; text: string };
      try {
        res = await post(agent, url, `${options.prefix}/users/${userId}/sync`, headers, body);
      } catch (error) {
        if (sentAt >= windowStart) counts.errors += 1;
        if (counts.errors === 1) console.warn(`${options.scenario}: first sync error: ${String(error)}`);
        return;
      }
      const ackAt = performance.now();
      // Measured: sent in the window (in an open loop the answer may come after it).
      const inWindow = sentAt >= windowStart && sentAt < windowEnd;
      if (inWindow) syncTimes.recordValue(Math.max(1, Math.round((ackAt - sentAt) * 1000)));
      if (ackAt >= windowStart && ackAt < windowEnd) counts.answered += 1;
      if (res.status !== 200) {
        if (inWindow) counts.non2xx += 1;
        return;
      }
      const version = (JSON.parse(res.text) as { version: number }).version;
      acks.set(`user:${userId}:${version}`, { at: performance.timeOrigin + ackAt, measured: inWindow });
    };

    const userOf = (i: number) => `sse-${options.tag}-u${i % options.users}`;
    const storm =
      options.scenario === 'sse-storm'
        ? subscribers.storm(
            performance.timeOrigin + started,
            (options.warmupS + options.durationS) * 1000,
            options.drops,
          )
        : undefined;

    if (options.scenario === 'sse-open') {
      const inFlight = new Set<Promise<void>>();
      const intervalMs = 1000 / options.rate;
      let next = 0;
      while (performance.now() < windowEnd) {
        const due = Math.floor((performance.now() - started) / intervalMs);
        for (; next <= due; next++) {
          // A host far slower than the rate would pile up requests without end: past this many
          // outstanding, a scheduled sync is counted as not sent instead.
          if (inFlight.size >= MAX_IN_FLIGHT) {
            if (performance.now() >= windowStart) counts.notSent += 1;
            continue;
          }
          const p = syncOnce(userOf(next)).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        await sleep(1);
      }
      await Promise.all([...inFlight]);
    } else {
      await Promise.all(
        Array.from({ length: options.writers }, async (_, w) => {
          for (let i = 0; performance.now() < windowEnd; i++)
            await syncOnce(`sse-${options.tag}-w${w}-u${i % 4}`);
        }),
      );
    }
    const stormed = await storm;

    // Drain: every acknowledged event must reach every subscriber.
    const drainStart = performance.now();
    const ids = [...acks.keys()];
    const hooksMissing = async () => (receiver ? receiver.missing(ids) : 0);
    while (
      ((await subscribers.missing(ids)) > 0 || (await hooksMissing()) > 0) &&
      performance.now() - drainStart < options.drainCapS * 1000
    )
      await sleep(100);
    const drainS = (performance.now() - drainStart) / 1000;
    await sleep(500);

    const totals = await subscribers.measure([...acks].map(([id, ack]) => ({ id, ...ack })));
    const result: SseResult = {
      scenario: options.scenario,
      subscribers: options.subscribers,
      reqPerSec: counts.answered / options.durationS,
      notSent: counts.notSent,
      syncP99: syncTimes.getValueAtPercentile(99) / 1000,
      non2xx: counts.non2xx,
      errors: counts.errors,
      measured: [...acks.values()].filter((a) => a.measured).length,
      pairs: totals.pairs,
      p50: totals.p50,
      p95: totals.p95,
      p99: totals.p99,
      max: totals.max,
      lost: await subscribers.missing(ids),
      duplicated: totals.duplicated,
      refused: totals.refused,
      hostCloses: totals.hostCloses,
      drainS,
    };
    if (receiver) {
      const { arrivals, unverified, posts, events } = await receiver.arrivals();
      const firstAt = new Map(arrivals.map(([id, at]) => [id, at]));
      const latency = latencyHistogram();
      for (const [id, ack] of acks) {
        const at = firstAt.get(id);
        if (ack.measured && at !== undefined)
          latency.recordValue(Math.max(1, Math.round((at - ack.at) * 1000)));
      }
      result.webhook = {
        p50: latency.getValueAtPercentile(50) / 1000,
        p95: latency.getValueAtPercentile(95) / 1000,
        p99: latency.getValueAtPercentile(99) / 1000,
        max: latency.maxValue / 1000,
        lost: await hooksMissing(),
        duplicated: arrivals.filter(([, , count]) => count > 1).length,
        unverified,
        posts,
        events,
      };
    }
    if (stormed) {
      result.clientsWithGaps = totals.clientsWithGaps;
      result.clientsWithDuplicates = totals.clientsWithDuplicates;
      result.reconnects = stormed.reconnects;
      result.resumeP50Ms = median(stormed.resumeMs);
      result.resumeMaxMs = Math.max(0, ...stormed.resumeMs);
    }
    return result;
  } finally {
    await subscribers.close();
    agent.destroy();
    await receiver?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering (stdout and RESULTS.md).

export interface SseRow extends SseResult {
  repeat: number;
}

export const SSE_TARGETS: Record<SseScenario, string> = {
  'sse-open': 'p95 ≤ 25 ms, p99 ≤ 50 ms, 0 lost (streams and webhook)',
  'sse-closed': 'p95 ≤ 250 ms, 0 lost (streams and webhook), host RSS ≤ 256 MB',
  'sse-storm': '0 gaps, 0 duplicates per client',
};

const MB = 1024 * 1024;
const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits);

function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function sseChecks(rows: SseRow[]): string[] {
  return SSE_SCENARIOS.filter((s) => rows.some((r) => r.scenario === s)).map((scenario) => {
    const at = rows.filter((r) => r.scenario === scenario);
    const p95 = median(at.map((r) => r.p95));
    const p99 = median(at.map((r) => r.p99));
    const lost = at.reduce((s, r) => s + r.lost, 0);
    const dup = at.reduce((s, r) => s + r.duplicated, 0);
    const rss = Math.max(...at.map((r) => (r.peakRssBytes ?? 0) / MB));
    const hooked = at.filter((r) => r.webhook);
    const hook = (pick: (w: WebhookLatency) => number) => median(hooked.map((r) => pick(r.webhook!)));
    const hookLost = hooked.reduce((sum, r) => sum + r.webhook!.lost, 0);
    const webhookChecks = (p95Target: number, p99Target?: number): [string, boolean][] =>
      hooked.length === 0
        ? []
        : [
            [`webhook p95 ${fmt(hook((w) => w.p95))} ms (≤ ${p95Target})`, hook((w) => w.p95) <= p95Target],
            ...(p99Target === undefined
              ? []
              : [
                  [
                    `webhook p99 ${fmt(hook((w) => w.p99))} ms (≤ ${p99Target})`,
                    hook((w) => w.p99) <= p99Target,
                  ] as [string, boolean],
                ]),
            [`webhook lost ${hookLost} (0)`, hookLost === 0],
          ];
    const checks: [string, boolean][] =
      scenario === 'sse-open'
        ? [
            [`p95 ${fmt(p95)} ms (≤ 25)`, p95 <= 25],
            [`p99 ${fmt(p99)} ms (≤ 50)`, p99 <= 50],
            [`lost ${lost} (0)`, lost === 0],
            ...webhookChecks(25, 50),
          ]
        : scenario === 'sse-closed'
          ? [
              [`p95 ${fmt(p95)} ms (≤ 250)`, p95 <= 250],
              [`lost ${lost} (0)`, lost === 0],
              [`peak RSS ${fmt(rss)} MB, highest run (≤ 256)`, rss <= 256],
              ...webhookChecks(250),
            ]
          : [
              [
                `clients with gaps ${at.reduce((s, r) => s + (r.clientsWithGaps ?? 0), 0)} (0)`,
                at.every((r) => r.clientsWithGaps === 0),
              ],
              [
                `with duplicates ${at.reduce((s, r) => s + (r.clientsWithDuplicates ?? 0), 0)} (0)`,
                at.every((r) => r.clientsWithDuplicates === 0),
              ],
              [`duplicate frames ${dup} (0)`, dup === 0],
            ];
    return `${scenario}: ${checks.map(([label, met]) => `${met ? 'met' : 'MISSED'}: ${label}`).join('; ')}`;
  });
}

const COLUMNS: [string, (r: SseRow) => string][] = [
  ['repeat', (r) => String(r.repeat)],
  ['scenario', (r) => r.scenario],
  ['subs', (r) => String(r.subscribers)],
  ['sync req/s', (r) => fmt(r.reqPerSec, 0)],
  ['sync p99', (r) => fmt(r.syncP99)],
  ['not sent', (r) => String(r.notSent)],
  ['non-2xx', (r) => String(r.non2xx)],
  ['errors', (r) => String(r.errors)],
  ['events', (r) => String(r.measured)],
  ['pairs', (r) => String(r.pairs)],
  ['p50 ms', (r) => fmt(r.p50)],
  ['p95 ms', (r) => fmt(r.p95)],
  ['p99 ms', (r) => fmt(r.p99)],
  ['max ms', (r) => fmt(r.max, 0)],
  ['lost', (r) => String(r.lost)],
  ['dup', (r) => String(r.duplicated)],
  [
    'gaps/dup clients',
    (r) => (r.clientsWithGaps === undefined ? '–' : `${r.clientsWithGaps}/${r.clientsWithDuplicates}`),
  ],
  ['reconnects', (r) => (r.reconnects === undefined ? '–' : String(r.reconnects))],
  [
    'resume p50/max ms',
    (r) => (r.resumeP50Ms === undefined ? '–' : `${fmt(r.resumeP50Ms, 0)}/${fmt(r.resumeMaxMs, 0)}`),
  ],
  ['503s', (r) => String(r.refused)],
  ['host closes', (r) => String(r.hostCloses ?? 0)],
  [
    'webhook p50/p95/p99 ms',
    (r) => (r.webhook ? `${fmt(r.webhook.p50)}/${fmt(r.webhook.p95)}/${fmt(r.webhook.p99)}` : '–'),
  ],
  [
    'webhook lost/dup/unverified',
    (r) => (r.webhook ? `${r.webhook.lost}/${r.webhook.duplicated}/${r.webhook.unverified}` : '–'),
  ],
  [
    'webhook events/POST',
    (r) => (r.webhook && r.webhook.posts > 0 ? fmt(r.webhook.events / r.webhook.posts) : '–'),
  ],
  ['drain s', (r) => fmt(r.drainS)],
  ['peak RSS MB', (r) => fmt((r.peakRssBytes ?? 0) / MB)],
];

export function sseText(rows: SseRow[]): string {
  const head = COLUMNS.map(([h]) => h);
  const body = rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  return [head, ...body]
    .map((row) => row.map((c, i) => c.padStart(widths[i] as number)).join('  '))
    .join('\n');
}

export function sseMarkdown(settings: string, rows: SseRow[]): string {
  const table = (head: string[], body: string[][]) =>
    [
      `| ${head.join(' | ')} |`,
      `| ${head.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  return [
    '### Event stream: sync acknowledged → SSE subscriber (and → webhook)',
    '',
    `- Settings: ${settings}`,
    '',
    'Latency is over every (event, subscriber) pair of the measured window; "pairs" counts them. lost = pairs ' +
      'acknowledged but never received after the drain; dup = frames of an event a subscriber already had; in the ' +
      'storm, "gaps/dup clients" counts subscribers with at least one missing / repeated event across their reconnects.',
    '',
    table(
      COLUMNS.map(([h]) => h),
      rows.map((r) => COLUMNS.map(([, f]) => f(r))),
    ),
    '',
    'Targets (recorded, not asserted):',
    '',
    ...Object.entries(SSE_TARGETS).map(([s, t]) => `- ${s}: ${t}`),
    '',
    ...sseChecks(rows).map((line) => `- ${line}`),
    '',
  ].join('\n');
}
