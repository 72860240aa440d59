/**
 * Metrics across instances: each instance of the bridge publishes a compact snapshot of its own
 * figures (counters and HDR histograms in their compressed form) to the document store, and
 * `GET /api/metrics` merges the snapshots of the instances seen recently. Histograms add up
 * exactly, so merged percentiles are those of every sample of every live instance.
 *
 * Pure: the snapshots come in, the merged figures and the list of instances go out.
 */
import { healthBand, type HealthBand } from './health-band';
import { LatencyHistogram } from './latency-histogram';

export interface TokenOperationUsage {
  charges: number;
  tokens: number;
  replays: number;
  refused: number;
}

export interface TokenUsage {
  operations: Record<string, TokenOperationUsage>;
  grants: { count: number; tokens: number };
}

/** What one instance publishes (the body of its `metrics-instance` document). */
export interface InstanceSnapshot {
  instanceId: string;
  /** Epoch ms: when the instance's counters started. */
  startedAt: number;
  /** Epoch ms: when this snapshot was taken. */
  publishedAt: number;
  sync: { count: number; failed: number; rejected: number; latency: string };
  events: { published: number; publishFailures: number; propagation: string };
  tokens: TokenUsage;
}

/** successRate = (count − rejected − failed) / (count − rejected); null before the first judged sync. */
export function successRateOf(count: number, rejected: number, failed: number): number | null {
  const judged = count - rejected;
  return judged <= 0 ? null : Math.round(((judged - failed) / judged) * 10_000) / 10_000;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface InstanceRow {
  instanceId: string;
  /** The instance that answered. */
  self: boolean;
  startedAt: string;
  publishedAt: string;
  /** Seconds since the snapshot was taken (one decimal). */
  ageSeconds: number;
  /** Older than the staleness limit: listed, but left out of the merged figures. */
  stale: boolean;
  /** The snapshot could not be read (its histograms did not decode); left out of the merge. */
  unreadable?: string;
  syncCount: number;
  failedSyncs: number;
  rejectedSyncs: number;
  successRate: number | null;
  syncHealth: HealthBand;
  latencyMs: Percentiles;
  eventsPublished: number;
  publishFailures: number;
  propagationMs: Percentiles;
}

export interface MergedMetrics {
  syncCount: number;
  failedSyncs: number;
  rejectedSyncs: number;
  successRate: number | null;
  latencyMs: Percentiles & { avg: number };
  syncHealth: HealthBand;
  eventsPublished: number;
  publishFailures: number;
  propagationMs: Percentiles;
  tokenUsage: TokenUsage;
  /** The earliest start of the merged instances. */
  since: string;
  /** Newest first by publication, the answering instance first. */
  instances: InstanceRow[];
  /** Instances whose figures were merged, and those listed but left out (stale or unreadable). */
  merged: number;
  leftOut: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const percentiles = (h: LatencyHistogram): Percentiles => {
  const { p50, p95, p99 } = h.summary();
  return { p50, p95, p99 };
};

function addTokens(into: TokenUsage, from: TokenUsage): void {
  for (const [operation, usage] of Object.entries(from.operations)) {
    const current = (into.operations[operation] ??= { charges: 0, tokens: 0, replays: 0, refused: 0 });
    current.charges += usage.charges;
    current.tokens += usage.tokens;
    current.replays += usage.replays;
    current.refused += usage.refused;
  }
  into.grants.count += from.grants.count;
  into.grants.tokens += from.grants.tokens;
}

/**
 * Merges `snapshots` (one per instance; `selfId`'s is the answering instance's live one) as seen
 * at `now`: instances whose snapshot is older than `staleAfterMs` are listed as stale and left out.
 */
export function mergeInstanceSnapshots(
  snapshots: readonly InstanceSnapshot[],
  options: { now: number; staleAfterMs: number; selfId: string },
): MergedMetrics {
  const latency = new LatencyHistogram();
  const propagation = new LatencyHistogram();
  const tokenUsage: TokenUsage = { operations: {}, grants: { count: 0, tokens: 0 } };
  let syncCount = 0;
  let failedSyncs = 0;
  let rejectedSyncs = 0;
  let eventsPublished = 0;
  let publishFailures = 0;
  let since = Number.POSITIVE_INFINITY;
  let merged = 0;
  const instances: InstanceRow[] = [];

  for (const s of snapshots) {
    const self = s.instanceId === options.selfId;
    const ageMs = Math.max(0, options.now - s.publishedAt);
    const stale = !self && ageMs > options.staleAfterMs;
    let own: { latency: LatencyHistogram; propagation: LatencyHistogram } | undefined;
    let unreadable: string | undefined;
    try {
      own = {
        latency: LatencyHistogram.decode(s.sync.latency),
        propagation: LatencyHistogram.decode(s.events.propagation),
      };
    } catch (error) {
      unreadable = (error as Error).message;
    }
    instances.push({
      instanceId: s.instanceId,
      self,
      startedAt: new Date(s.startedAt).toISOString(),
      publishedAt: new Date(s.publishedAt).toISOString(),
      ageSeconds: round1(ageMs / 1000),
      stale,
      ...(unreadable ? { unreadable } : {}),
      syncCount: s.sync.count,
      failedSyncs: s.sync.failed,
      rejectedSyncs: s.sync.rejected,
      successRate: successRateOf(s.sync.count, s.sync.rejected, s.sync.failed),
      syncHealth: healthBand(successRateOf(s.sync.count, s.sync.rejected, s.sync.failed)),
      latencyMs: own ? percentiles(own.latency) : { p50: 0, p95: 0, p99: 0 },
      eventsPublished: s.events.published,
      publishFailures: s.events.publishFailures,
      propagationMs: own ? percentiles(own.propagation) : { p50: 0, p95: 0, p99: 0 },
    });
    if (stale || !own) continue;
    merged += 1;
    latency.merge(own.latency);
    propagation.merge(own.propagation);
    syncCount += s.sync.count;
    failedSyncs += s.sync.failed;
    rejectedSyncs += s.sync.rejected;
    eventsPublished += s.events.published;
    publishFailures += s.events.publishFailures;
    since = Math.min(since, s.startedAt);
    addTokens(tokenUsage, s.tokens);
  }

  instances.sort((a, b) =>
    a.self !== b.self ? (a.self ? -1 : 1) : b.publishedAt.localeCompare(a.publishedAt),
  );
  const successRate = successRateOf(syncCount, rejectedSyncs, failedSyncs);
  const { avg, p50, p95, p99 } = latency.summary();
  return {
    syncCount,
    failedSyncs,
    rejectedSyncs,
    successRate,
    latencyMs: { avg, p50, p95, p99 },
    syncHealth: healthBand(successRate),
    eventsPublished,
    publishFailures,
    propagationMs: percentiles(propagation),
    tokenUsage,
    since: new Date(Number.isFinite(since) ? since : options.now).toISOString(),
    instances,
    merged,
    leftOut: instances.length - merged,
  };
}
