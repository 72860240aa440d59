/**
 * The event propagation scenario: N concurrent writers (a bounded loop of keep-alive node:http
 * requests, one user per writer so each writer's syncs are consecutive versions) against the local
 * host's POST /api/users/{id}/sync, and, in the same process, a webhook receiver subscribed to
 * user_update (tests/helpers/webhook-receiver.ts: it verifies every delivery's Standard Webhooks
 * signature). Per event it records the client's ack time (the sync's 200 fully read) and the
 * receiver's arrival time, both `performance.now()` in this process, so propagation = arrival − ack.
 *
 * The measured window opens after the warm-up; syncs acknowledged in it are the measured events.
 * After the window the writers stop, and the run waits (bounded) for every acknowledged event of
 * the whole run to arrive, then a little longer to catch late duplicates. Lost = acknowledged but
 * never delivered; duplicated = delivered more than once; conflicting = one id delivered with two
 * different bodies. The same loop without a subscriber gives the sync throughput without webhook
 * delivery, for the cost ratio.
 *
 * The receiver shares this process with the writers, so its arrival times include any wait behind
 * the writers' own work: the figures err on the slow side.
 */
import * as http from 'node:http';
import { latencyHistogram } from './sse-subscribers';
import { startWebhookReceiver, type WebhookReceiver } from '../../tests/helpers/webhook-receiver';

export interface PropagationOptions {
  origin: string;
  prefix: string;
  adminKey: string;
  /** A user-role key for the writes (the path a portal's request takes). */
  writerKey: string;
  connections: number;
  warmupS: number;
  durationS: number;
  /** Subscribe a webhook receiver to user_update (false: the same load, no subscriber). */
  subscribe: boolean;
  /** Longest wait after the window for every acknowledged event to arrive. */
  drainCapS: number;
  tag: string;
}

export interface PropagationResult {
  subscribed: boolean;
  reqPerSec: number;
  /** Sync response time (ms) in the window. */
  syncP50: number;
  syncP99: number;
  non2xx: number;
  errors: number;
  /** Syncs acknowledged over the whole run (warm-up included) and in the window. */
  acked: number;
  measured: number;
  /** Subscribed runs only: propagation (ack → received), ms, over the window's events. */
  propP50?: number;
  propP95?: number;
  propP99?: number;
  propMax?: number;
  /** Events of the window whose webhook arrived before the client had read the sync's answer (counted as 0 ms). */
  beforeAck?: number;
  lost?: number;
  duplicated?: number;
  conflicting?: number;
  unverified?: number;
  /** Seconds after the window until every acknowledged event had arrived (the drain). */
  drainS?: number;
}

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
        timeout: 10_000,
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

/**
 * Subscribes `receiver` to user_update (with the admin key; batched delivery with `webhookBatch`)
 * and gives it the subscription's secret.
 */
export async function subscribeWebhook(
  options: { origin: string; prefix: string; adminKey: string; webhookBatch?: number },
  receiver: Pick<WebhookReceiver, 'url'> & { setSecret(secret: string): unknown },
): Promise<void> {
  const batch = options.webhookBatch === undefined ? {} : { maxEventsPerBatch: options.webhookBatch };
  const res = await fetch(`${options.origin}${options.prefix}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': options.adminKey },
    body: JSON.stringify({ eventTypes: ['user_update'], url: receiver.url, ...batch }),
  });
  if (res.status !== 201)
    throw new Error(`subscribing the receiver failed: ${res.status} ${await res.text()}`);
  await receiver.setSecret(((await res.json()) as { secret: string }).secret);
}

export async function runPropagation(options: PropagationOptions): Promise<PropagationResult> {
  const receiver = options.subscribe
    ? await startWebhookReceiver({ parse: false, keepDeliveries: false })
    : undefined;
  /** Per event id: first arrival, its body, and how many deliveries. */
  const received = new Map<string, { at: number; body: string; count: number; conflicting: boolean }>();
  let unverified = 0;
  receiver?.onDelivery((d) => {
    if (d.verified !== true) unverified += 1;
    const seen = received.get(d.id);
    if (!seen) received.set(d.id, { at: d.receivedAt, body: d.body, count: 1, conflicting: false });
    else {
      seen.count += 1;
      if (seen.body !== d.body) seen.conflicting = true;
    }
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  try {
    if (receiver) await subscribeWebhook(options, receiver);
    const url = new URL(options.origin);
    const headers = { 'x-api-key': options.writerKey };
    /** Acknowledged events: id → ack time, and whether the ack fell in the measured window. */
    const acks = new Map<string, { at: number; measured: boolean }>();
    const syncTimes = latencyHistogram();
    const counts = { ok: 0, non2xx: 0, errors: 0 };
    const started = performance.now();
    const windowStart = started + options.warmupS * 1000;
    const windowEnd = windowStart + options.durationS * 1000;
    let seq = 0;

    const writer = async (index: number) => {
      const userId = `prop-${options.tag}-w${index}`;
      while (performance.now() < windowEnd) {
        seq += 1;
        const body = JSON.stringify({
          data: { name: `User ${seq}`, score: seq, city: 'Leeds', tags: ['bench', options.tag] },
        });
        const sentAt = performance.now();
        let res: { status: number; text: string };
        try {
          res = await post(agent, url, `${options.prefix}/users/${userId}/sync`, headers, body);
        } catch {
          if (sentAt >= windowStart) counts.errors += 1;
          await sleep(10);
          continue;
        }
        const ackAt = performance.now();
        const inWindow = sentAt >= windowStart && ackAt <= windowEnd;
        if (inWindow) syncTimes.recordValue(Math.max(1, Math.round((ackAt - sentAt) * 1000)));
        if (res.status !== 200) {
          if (inWindow) counts.non2xx += 1;
          continue;
        }
        if (inWindow) counts.ok += 1;
        const version = (JSON.parse(res.text) as { version: number }).version;
        acks.set(`user:${userId}:${version}`, { at: ackAt, measured: inWindow });
      }
    };
    await Promise.all(Array.from({ length: options.connections }, (_, i) => writer(i)));
    const measuredS = options.durationS;

    const result: PropagationResult = {
      subscribed: options.subscribe,
      reqPerSec: (counts.ok + counts.non2xx) / measuredS,
      syncP50: syncTimes.getValueAtPercentile(50) / 1000,
      syncP99: syncTimes.getValueAtPercentile(99) / 1000,
      non2xx: counts.non2xx,
      errors: counts.errors,
      acked: acks.size,
      measured: [...acks.values()].filter((a) => a.measured).length,
    };
    if (!receiver) return result;

    // Drain: every acknowledged event of the run must arrive; then a grace second for duplicates.
    const drainStart = performance.now();
    const missing = () => [...acks.keys()].filter((id) => !received.has(id));
    while (missing().length > 0 && performance.now() - drainStart < options.drainCapS * 1000) await sleep(20);
    const drainS = (performance.now() - drainStart) / 1000;
    await sleep(1000);

    const propagation = latencyHistogram();
    let beforeAck = 0;
    for (const [id, ack] of acks) {
      const got = received.get(id);
      if (!ack.measured || !got) continue;
      const ms = got.at - ack.at;
      if (ms < 0) beforeAck += 1;
      propagation.recordValue(Math.max(1, Math.round(ms * 1000)));
    }
    const all = [...received.values()];
    return {
      ...result,
      propP50: propagation.getValueAtPercentile(50) / 1000,
      propP95: propagation.getValueAtPercentile(95) / 1000,
      propP99: propagation.getValueAtPercentile(99) / 1000,
      propMax: propagation.maxValue / 1000,
      beforeAck,
      lost: missing().length,
      duplicated: all.filter((r) => r.count > 1).length,
      conflicting: all.filter((r) => r.conflicting).length,
      unverified,
      drainS,
    };
  } finally {
    agent.destroy();
    await receiver?.close();
  }
}
