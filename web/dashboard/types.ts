/** The parts of the bridge's answers the page shows (see the OpenAPI document for the whole). */

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface InstanceRow {
  instanceId: string;
  self: boolean;
  startedAt: string;
  publishedAt: string;
  ageSeconds: number;
  stale: boolean;
  unreadable?: string;
  syncCount: number;
  failedSyncs: number;
  rejectedSyncs: number;
  successRate: number | null;
  syncHealth: string;
  latencyMs: Percentiles;
  eventsPublished: number;
  propagationMs: Percentiles;
}

export interface Metrics {
  syncCount: number;
  failedSyncs: number;
  rejectedSyncs: number;
  successRate: number | null;
  latencyMs: Percentiles & { avg: number };
  syncHealth: string;
  since: string;
  eventCount: number;
  eventsPublished: number;
  publishFailures: number;
  propagationMs: Percentiles;
  stateSize: number;
  instanceId: string;
  instancesMerged: number;
  instancesLeftOut: number;
  publishIntervalSeconds: number;
  staleAfterSeconds: number;
  instances: InstanceRow[];
}

export interface MonitorRun {
  at: string;
  ok: boolean;
  syncLatencyMs: number;
  propagationLatencyMs: number | null;
  detail?: string;
  health: string;
  pendingEvents: number;
  instanceId: string;
}

export interface LockstepStatus {
  changeFeed: { pendingEvents: number; oldestPendingAgeMs: number | null };
  propagationMs: Percentiles;
  consistency: {
    checkedUsers: number;
    consistent: boolean;
    inconsistent: { userId: string; stateVersion: number }[];
  };
  health: string;
  checkedAt: string;
  monitor: {
    enabled: boolean;
    schedule: string;
    intervalSeconds: number | null;
    lastRunAgeSeconds: number | null;
    last: MonitorRun | null;
    recent: MonitorRun[];
  };
}

export interface ProbeResult {
  ok: boolean;
  version: number;
  syncLatencyMs: number;
  propagationLatencyMs: number | null;
  detail?: string;
}

export interface ProviderRow {
  name: string;
  position: number;
  configured: boolean;
  active: boolean;
  healthy: boolean;
  coolingDown: boolean;
  cooldownUntil: string | null;
  cooldownRemainingSeconds: number;
  consecutiveFailures: number;
  lastError: { kind: string; at: string; message?: string } | null;
  lastCheck: { at: string; ok: boolean; latencyMs: number; kind?: string; message?: string } | null;
  model?: string | null;
}

export interface AuditEntry {
  at: string;
  type: string;
  provider?: string;
  from?: string | null;
  to?: string;
  reason?: string;
  kind?: string;
}

export interface Providers {
  active: string | null;
  reason: string | null;
  since: string | null;
  next: string;
  manual: boolean;
  rules: { failureThreshold: number; rateLimitThreshold: number; cooldownSeconds: number };
  providers: ProviderRow[];
  audit: AuditEntry[];
}

export interface CloudEvent {
  id: string;
  type: string;
  subject?: string;
  time: string;
  data: unknown;
  sequence?: string;
}

export interface EventsPage {
  events: CloudEvent[];
  next: string;
}

export interface Subscription {
  id: string;
  eventTypes: string[];
  url: string;
  createdAt: string;
  createdBy: string;
}

export interface DeadLetter {
  id: string;
  event: CloudEvent;
  attempts: number;
  lastAttemptAt: string;
  lastError: string;
}
