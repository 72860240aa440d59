/**
 * Response bodies of the routes that declare them (`responses` in route()), for the OpenAPI
 * document. Documentation only: the handlers are not checked against them at run time, but the
 * e2e tier validates every answer it records against the document (tests/e2e/client.ts), so a
 * schema that drifts from what a route sends fails a test.
 */
import { z } from 'zod';
import { FAILURE_KINDS } from '../domain/analysis/provider-lock';

const jsonValue = z.json();
const isoTime = z.iso.datetime({ offset: true });
const band = z.enum(['EXCELLENT', 'GOOD', 'WARNING', 'CRITICAL', 'NO_DATA']);
const percentiles = z.object({ p50: z.number(), p95: z.number(), p99: z.number() });
const count = z.number().int().min(0);

/** RFC 9457 problem details, as every error is answered (shared/http/http-response.ts). */
export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const cloudEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    subject: z.string().optional(),
    time: isoTime,
    datacontenttype: z.literal('application/json'),
    data: jsonValue,
    sequence: z.string().optional(),
  })
  .meta({ id: 'CloudEvent' });

export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  uptimeSeconds: count,
  checks: z.object({
    store: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
  }),
});

const tokenUsage = z.object({
  operations: z.record(
    z.string(),
    z.object({ charges: count, tokens: count, replays: count, refused: count }),
  ),
  grants: z.object({ count, tokens: count }),
});

const instanceRow = z.object({
  instanceId: z.string(),
  self: z.boolean(),
  startedAt: isoTime,
  publishedAt: isoTime,
  ageSeconds: z.number().min(0),
  stale: z.boolean(),
  unreadable: z.string().optional(),
  syncCount: count,
  failedSyncs: count,
  rejectedSyncs: count,
  successRate: z.number().min(0).max(1).nullable(),
  syncHealth: band,
  latencyMs: percentiles,
  eventsPublished: count,
  publishFailures: count,
  propagationMs: percentiles,
});

export const metricsResponseSchema = z
  .object({
    syncCount: count,
    failedSyncs: count,
    rejectedSyncs: count,
    successRate: z.number().min(0).max(1).nullable(),
    latencyMs: percentiles.extend({ avg: z.number() }),
    syncHealth: band,
    since: isoTime,
    eventCount: count,
    eventsPublished: count,
    publishFailures: count,
    propagationMs: percentiles,
    stateSize: count,
    tokenUsage,
    scope: z.enum(['cluster', 'instance']),
    instanceId: z.string(),
    instancesMerged: count,
    instancesLeftOut: count,
    publishIntervalSeconds: z.number(),
    staleAfterSeconds: z.number(),
    instances: z.array(instanceRow),
    streams: z
      .object({ open: count, max: count, queuedEvents: count, closedLagging: count })
      .describe("This instance's event streams (GET /api/events/stream); not merged across instances"),
  })
  .meta({ id: 'Metrics' });

const monitorRun = z.object({
  at: isoTime,
  ok: z.boolean(),
  syncLatencyMs: z.number(),
  propagationLatencyMs: z.number().nullable(),
  detail: z.string().optional(),
  health: z.string(),
  pendingEvents: count,
  instanceId: z.string(),
});

export const lockstepStatusResponseSchema = z
  .object({
    changeFeed: z.object({
      pendingEvents: count,
      oldestPendingAgeMs: z.number().nullable(),
      scannedEvents: count,
    }),
    /** Which event topic this instance runs: the outbox (local) or the bus. */
    eventTopic: z.enum(['outbox', 'bus']),
    propagationMs: percentiles,
    published: count,
    publishFailures: count,
    quarantine: z.object({
      count,
      latest: z.array(
        z.object({
          id: z.string(),
          eventId: z.string(),
          type: z.string(),
          where: z.string(),
          reason: z.string(),
          quarantinedAt: isoTime,
        }),
      ),
    }),
    consistency: z.object({
      checkedUsers: count,
      consistent: z.boolean(),
      inconsistent: z.array(
        z.object({ userId: z.string(), stateVersion: z.number(), publishedThrough: z.literal('pending') }),
      ),
    }),
    health: band.exclude(['NO_DATA']),
    checkedAt: isoTime,
    monitor: z.object({
      enabled: z.boolean(),
      schedule: z.string(),
      intervalSeconds: z.number().nullable(),
      lastRunAgeSeconds: z.number().nullable(),
      last: monitorRun.nullable(),
      recent: z.array(monitorRun),
    }),
  })
  .meta({ id: 'LockstepStatus' });

export const lockstepProbeResponseSchema = z.object({
  ok: z.boolean(),
  version: z.number().int(),
  syncLatencyMs: z.number(),
  propagationLatencyMs: z.number().nullable(),
  detail: z.string().optional(),
});

const failureKind = z.enum(FAILURE_KINDS);

export const providersResponseSchema = z
  .object({
    active: z.string().nullable(),
    reason: z.string().nullable(),
    since: isoTime.nullable(),
    next: z.string(),
    manual: z.boolean(),
    rules: z.object({
      failureThreshold: z.number().int(),
      rateLimitThreshold: z.number().int(),
      cooldownSeconds: z.number(),
    }),
    providers: z.array(
      z.object({
        name: z.string(),
        position: z.number().int(),
        configured: z.boolean(),
        active: z.boolean(),
        healthy: z.boolean(),
        coolingDown: z.boolean(),
        cooldownUntil: isoTime.nullable(),
        cooldownRemainingSeconds: count,
        consecutiveFailures: count,
        rateLimitStreak: count,
        lastError: z.object({ kind: failureKind, at: isoTime, message: z.string().optional() }).nullable(),
        lastCheck: z
          .object({
            at: isoTime,
            ok: z.boolean(),
            latencyMs: z.number(),
            kind: failureKind.optional(),
            message: z.string().optional(),
          })
          .nullable(),
        model: z.string().nullable().optional(),
        structuredOutput: z.string().nullable().optional(),
      }),
    ),
    audit: z.array(
      z.object({
        at: isoTime,
        type: z.enum([
          'acquire',
          'acquire-rejected',
          'release',
          'tripped',
          'failover',
          'recovered',
          'health-check',
        ]),
        provider: z.string().optional(),
        from: z.string().nullable().optional(),
        to: z.string().optional(),
        reason: z.string().optional(),
        kind: failureKind.optional(),
      }),
    ),
    auditSize: count,
  })
  .meta({ id: 'Providers' });

export const eventsPageResponseSchema = z.object({ events: z.array(cloudEventSchema), next: z.string() });

export const eventPublishedResponseSchema = z.object({
  id: z.string(),
  sequence: z.string(),
  duplicate: z.boolean(),
});

const subscription = z
  .object({
    id: z.string(),
    eventTypes: z.array(z.string()),
    url: z.string(),
    createdAt: isoTime,
    createdBy: z.string(),
    /** `disabled`: no deliveries until POST /subscriptions/{id}/enable. */
    status: z.enum(['active', 'disabled']),
    disabledAt: isoTime.optional(),
    disabledReason: z.string().optional(),
    /** When the current run of failed deliveries began; absent while deliveries succeed. */
    failingSince: isoTime.optional(),
    /** Batched delivery: each POST is a JSON array of up to this many events; absent: one event per POST. */
    maxEventsPerBatch: count.optional(),
  })
  .meta({ id: 'Subscription' });
export const subscriptionResponseSchema = subscription;

export const subscriptionCreatedResponseSchema = subscription.extend({ secret: z.string() });
export const subscriptionsResponseSchema = z.object({ subscriptions: z.array(subscription) });

export const deadLettersResponseSchema = z.object({
  subscriptionId: z.string(),
  deadLetters: z.array(
    z.object({
      id: z.string(),
      subscriptionId: z.string(),
      event: cloudEventSchema,
      attempts: count,
      firstAttemptAt: isoTime,
      lastAttemptAt: isoTime,
      lastError: z.string(),
    }),
  ),
});

export const redeliveredResponseSchema = z.object({ subscriptionId: z.string(), requeued: count });

export const attemptsResponseSchema = z.object({
  subscriptionId: z.string(),
  /** Newest first. */
  attempts: z.array(
    z.object({
      at: isoTime,
      eventId: z.string(),
      /** The receiver's HTTP status; null when it gave none (timeout, connection refused…). */
      status: z.number().int().nullable(),
      error: z.string().optional(),
      durationMs: count,
      attempt: count,
      /** A batched subscription's: how many events the POST carried. */
      batchSize: count.optional(),
    }),
  ),
});

export const syncResponseSchema = z
  .object({
    success: z.literal(true),
    userId: z.string(),
    version: z.number().int(),
    /** False when the write left the profile as it was (no new version, no event). */
    changed: z.boolean(),
    data: z.record(z.string(), jsonValue),
    applied: z.array(z.string()),
    rejected: z.array(z.object({ field: z.string(), reason: z.string() })),
    conflicts: z.array(z.object({ field: z.string(), resolution: z.string() })),
    latencyMs: z.number(),
  })
  .meta({ id: 'SyncResult' });
