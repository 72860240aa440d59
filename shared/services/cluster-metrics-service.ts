/**
 * Metrics across instances (GET /api/metrics). Every instance publishes a snapshot of its own
 * figures to the store every `publishIntervalMs` (a document per instance, with a TTL), and the
 * metrics route merges the snapshots of the instances seen within `staleAfterMs`: on Azure the
 * instance that answers is one of many, and its own counters alone would mislead.
 */
import { z } from 'zod';
import {
  mergeInstanceSnapshots,
  type InstanceSnapshot,
  type MergedMetrics,
} from '../domain/instance-metrics';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import type { EventMetrics } from './event-metrics';
import type { SyncMetrics } from './sync-metrics';
import type { TokenMetrics } from './token-service';

export const METRICS_PARTITION = 'metrics:instances';
export const METRICS_DOC_TYPE = 'metrics-instance';
/** Most instance documents read per merge (a scale-out far beyond the Flex Consumption maximum). */
export const MAX_INSTANCES = 1000;

export interface ClusterMetricsOptions {
  publishIntervalMs: number;
  staleAfterMs: number;
  ttlSeconds: number;
}

export interface ClusterMetricsDeps {
  store: DocumentCollection;
  clock: Clock;
  /** This instance's id: unique per process (host name, process id and a random part). */
  instanceId: string;
  sync: SyncMetrics;
  events: EventMetrics;
  tokens: TokenMetrics;
  /** Operations listed in token usage even before their first use. */
  tokenOperations: readonly string[];
  options: ClusterMetricsOptions;
  log: (message: string) => void;
}

const usage = z.object({
  charges: z.number(),
  tokens: z.number(),
  replays: z.number(),
  refused: z.number(),
});

/** What a stored snapshot must look like; anything else (an older format, damage) is skipped. */
const snapshotSchema = z.object({
  instanceId: z.string().min(1).max(255),
  startedAt: z.number(),
  publishedAt: z.number(),
  sync: z.object({ count: z.number(), failed: z.number(), rejected: z.number(), latency: z.string() }),
  events: z.object({ published: z.number(), publishFailures: z.number(), propagation: z.string() }),
  tokens: z.object({
    operations: z.record(z.string(), usage),
    grants: z.object({ count: z.number(), tokens: z.number() }),
  }),
});

export interface ClusterMetrics extends MergedMetrics {
  /** The instance that answered. */
  instanceId: string;
  publishIntervalSeconds: number;
  staleAfterSeconds: number;
  /** Documents that were not snapshots (skipped), by id. */
  skipped: string[];
}

export class ClusterMetricsService {
  readonly instanceId: string;
  private readonly deps: ClusterMetricsDeps;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(deps: ClusterMetricsDeps) {
    this.deps = deps;
    this.instanceId = deps.instanceId;
  }

  get options(): ClusterMetricsOptions {
    return this.deps.options;
  }

  /** The other instances' latest snapshots (at most MAX_INSTANCES documents read). */
  private async storedSnapshots(): Promise<{ snapshots: InstanceSnapshot[]; skipped: string[] }> {
    const snapshots: InstanceSnapshot[] = [];
    const skipped: string[] = [];
    let continuation: string | undefined;
    let read = 0;
    do {
      const page = await this.deps.store.query<unknown>({
        pk: METRICS_PARTITION,
        type: METRICS_DOC_TYPE,
        limit: 200,
        ...(continuation ? { continuation } : {}),
      });
      for (const doc of page.items) {
        read += 1;
        if (doc.id === this.instanceId) continue; // this instance's live figures are newer
        const parsed = snapshotSchema.safeParse(doc.body);
        if (parsed.success && parsed.data.instanceId === doc.id) snapshots.push(parsed.data);
        else skipped.push(doc.id);
      }
      continuation = page.continuation;
    } while (continuation && read < MAX_INSTANCES);
    return { snapshots, skipped };
  }

  /** This instance's figures now. */
  localSnapshot(): InstanceSnapshot {
    const { sync, events, tokens, tokenOperations, clock } = this.deps;
    return {
      instanceId: this.instanceId,
      startedAt: sync.startedAt,
      publishedAt: clock.now(),
      sync: sync.exportParts(),
      events: events.exportParts(),
      tokens: tokens.snapshot(tokenOperations),
    };
  }

  /** Writes this instance's snapshot (expires after the TTL unless refreshed). */
  async publish(): Promise<void> {
    await this.deps.store.upsert(
      METRICS_PARTITION,
      { id: this.instanceId, type: METRICS_DOC_TYPE, body: this.localSnapshot() },
      { ttlSeconds: this.deps.options.ttlSeconds },
    );
  }

  /** Publishes now and then every interval until stop(); a failed publish is logged and retried next time. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.inFlight) return; // a slow store: skip a beat rather than pile up writes
      this.inFlight = this.publish()
        .catch((error: unknown) =>
          this.deps.log(`metrics: publishing this instance's snapshot failed: ${String(error)}`),
        )
        .finally(() => (this.inFlight = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.deps.options.publishIntervalMs);
    this.timer.unref();
  }

  /** Stops publishing; when it was running, publishes a last snapshot so the final figures count. */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.publish().catch((error: unknown) =>
      this.deps.log(`metrics: the last snapshot was not published: ${String(error)}`),
    );
  }

  /**
   * Every instance's latest snapshot, this one's live, merged (see mergeInstanceSnapshots);
   * with `instanceOnly`, this instance's figures alone.
   */
  async merged(options: { instanceOnly?: boolean } = {}): Promise<ClusterMetrics> {
    const others = options.instanceOnly ? { snapshots: [], skipped: [] } : await this.storedSnapshots();
    const snapshots = [this.localSnapshot(), ...others.snapshots];
    const skipped = others.skipped;
    const settings = this.deps.options;
    return {
      ...mergeInstanceSnapshots(snapshots, {
        now: this.deps.clock.now(),
        staleAfterMs: settings.staleAfterMs,
        selfId: this.instanceId,
      }),
      instanceId: this.instanceId,
      publishIntervalSeconds: settings.publishIntervalMs / 1000,
      staleAfterSeconds: settings.staleAfterMs / 1000,
      skipped,
    };
  }
}
