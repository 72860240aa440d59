import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Custom telemetry: metrics, events and exceptions. In Azure it goes to Application Insights; with
 * no connection string it goes nowhere (the no-op telemetry). Calls never throw and never wait.
 */

/** The custom metrics the bridge reports. */
export const BRIDGE_METRICS = {
  /** Duration of one sync_user_data call, ms (dimension `outcome`: succeeded | rejected | failed). */
  syncLatencyMs: 'bridge.sync.latency_ms',
  /** Commit → accepted by the bus, ms, per event. */
  propagationLatencyMs: 'bridge.propagation.latency_ms',
  /** Field conflicts resolved in one sync (dimension `resolution` where useful). */
  syncConflicts: 'bridge.sync.conflicts',
  /** Fields refused in one sync (protected or conflict). */
  syncRejectedFields: 'bridge.sync.rejected_fields',
  /** Model-provider failovers (dimensions `from`, `to`). */
  providerFailovers: 'bridge.provider.failovers',
} as const;

export type BridgeMetricName = (typeof BRIDGE_METRICS)[keyof typeof BRIDGE_METRICS];

/** Dimensions / custom properties. Keep metric dimensions low-cardinality (no ids). */
export type TelemetryProperties = Record<string, string | number | boolean | undefined>;

export interface Telemetry {
  /** false for the no-op telemetry. */
  readonly enabled: boolean;
  trackMetric(name: BridgeMetricName | (string & {}), value: number, properties?: TelemetryProperties): void;
  trackEvent(name: string, properties?: TelemetryProperties, measurements?: Record<string, number>): void;
  trackException(error: unknown, properties?: TelemetryProperties): void;
  /** Sends what is buffered; resolves (never rejects) when done. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK. */
  close(): Promise<void>;
}

export const noopTelemetry: Telemetry = {
  enabled: false,
  trackMetric: () => undefined,
  trackEvent: () => undefined,
  trackException: () => undefined,
  flush: async () => undefined,
  close: async () => undefined,
};

/**
 * The operation (W3C trace) a piece of work belongs to. Telemetry recorded inside
 * `runWithTelemetryOperation` carries it as `operation_Id` / `operation_ParentId`, which joins it to
 * the Functions host's request telemetry for the same invocation.
 */
export interface TelemetryOperation {
  /** 32 hex digits: the trace id, Application Insights' operation_Id. */
  traceId: string;
  /** 16 hex digits: the caller's span id, operation_ParentId. */
  parentId?: string;
}

const operations = new AsyncLocalStorage<TelemetryOperation>();

export function runWithTelemetryOperation<T>(operation: TelemetryOperation | undefined, work: () => T): T {
  return operation ? operations.run(operation, work) : work();
}

export function currentTelemetryOperation(): TelemetryOperation | undefined {
  return operations.getStore();
}

/**
 * The operation of a W3C `traceparent` (`00-<trace-id>-<parent-id>-<flags>`), e.g. an invocation's
 * `context.traceContext?.traceParent`; undefined when it is missing or malformed.
 */
export function operationFromTraceParent(
  traceParent: string | null | undefined,
): TelemetryOperation | undefined {
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(
    traceParent?.trim().toLowerCase() ?? '',
  );
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2] as string) || /^0+$/.test(m[3] as string)) return undefined;
  return { traceId: m[2] as string, parentId: m[3] as string };
}
