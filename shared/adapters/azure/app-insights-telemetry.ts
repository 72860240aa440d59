import type { TokenCredential } from '@azure/identity';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { TelemetryClient } from 'applicationinsights';
import {
  currentTelemetryOperation,
  noopTelemetry,
  type Telemetry,
  type TelemetryOperation,
  type TelemetryProperties,
} from '../../ports/telemetry';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FLUSH_TIMEOUT_MS = 5_000;

/**
 * What is wrong with an Application Insights connection string, or undefined when it looks usable:
 * `key=value` pairs separated by `;`, with a GUID InstrumentationKey and http(s) endpoints.
 * (The SDK itself would accept a malformed one and silently send nothing.)
 */
export function connectionStringProblem(connectionString: string): string | undefined {
  const parts = connectionString
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return 'it is empty';
  const values = new Map<string, string>();
  for (const part of parts) {
    const at = part.indexOf('=');
    if (at <= 0) return 'it is not a list of key=value pairs separated by ";"';
    values.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const key = values.get('instrumentationkey');
  if (key === undefined) return 'InstrumentationKey is missing';
  if (!GUID.test(key)) return 'InstrumentationKey is not a GUID';
  for (const [name, label] of [
    ['ingestionendpoint', 'IngestionEndpoint'],
    ['liveendpoint', 'LiveEndpoint'],
  ] as const) {
    const value = values.get(name);
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      return `${label} is not an http(s) URL`;
  }
  return undefined;
}

function toStringProperties(properties: TelemetryProperties | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties ?? {})) {
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

let contextManagerReady = false;

/**
 * The SDK reads the operation from OpenTelemetry's active context. Without a registered context
 * manager every context is the root one, so register the standard (AsyncLocalStorage) manager once,
 * unless something else (the Azure Monitor distro, Functions instrumentation) already did.
 */
function ensureContextManager(): void {
  if (contextManagerReady) return;
  contextManagerReady = true;
  const probe = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  });
  const working = context.with(probe, () => trace.getSpanContext(context.active()) !== undefined);
  if (!working) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

function operationContext(operation: TelemetryOperation | undefined): Context | undefined {
  if (!operation) return undefined;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: operation.traceId,
    // Without a parent the SDK still needs a span id; the trace id alone sets operation_Id.
    spanId: operation.parentId ?? operation.traceId.slice(0, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

export interface AppInsightsOptions {
  /** Entra ID authentication (when the resource has local auth off): the identity that sends. */
  credential?: TokenCredential;
}

/**
 * Telemetry through the Application Insights SDK (v3, OpenTelemetry underneath) with its own,
 * isolated providers: nothing global is patched or auto-collected (the Functions host already
 * records requests). Metrics are OpenTelemetry histograms, aggregated before export (count, sum,
 * min, max per dimension set and interval); events and exceptions carry the current operation.
 * Every call is guarded: telemetry never fails the work it describes.
 */
export class AppInsightsTelemetry implements Telemetry {
  readonly enabled = true;
  private readonly client: TelemetryClient;

  constructor(
    connectionString: string,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
    options: AppInsightsOptions = {},
  ) {
    ensureContextManager();
    // Loaded here, not at import: the SDK and its OpenTelemetry stack cost tens of MB and start-up
    // time, which a bridge without a connection string (local, tests) should not pay.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('applicationinsights') as typeof import('applicationinsights');
    this.client = new sdk.TelemetryClient(connectionString, { useGlobalProviders: false });
    if (options.credential) this.client.config.aadTokenCredential = options.credential;
    this.client.initialize();
  }

  trackMetric(name: string, value: number, properties?: TelemetryProperties): void {
    if (!Number.isFinite(value)) return;
    this.guarded('trackMetric', () =>
      this.client.trackMetric({ name, value, properties: toStringProperties(properties) }),
    );
  }

  trackEvent(name: string, properties?: TelemetryProperties, measurements?: Record<string, number>): void {
    this.guarded('trackEvent', () =>
      this.client.trackEvent({
        name,
        properties: toStringProperties(properties),
        ...(measurements ? { measurements } : {}),
      }),
    );
  }

  trackException(error: unknown, properties?: TelemetryProperties): void {
    const exception = error instanceof Error ? error : new Error(String(error));
    this.guarded('trackException', () =>
      this.client.trackException({ exception, properties: toStringProperties(properties) }),
    );
  }

  async flush(): Promise<void> {
    await this.settle('flush', this.client.flush());
  }

  async close(): Promise<void> {
    await this.flush();
    await this.settle('shutdown', this.client.shutdown());
  }

  private guarded(what: string, record: () => void): void {
    try {
      const ctx = operationContext(currentTelemetryOperation());
      if (ctx) context.with(ctx, record);
      else record();
    } catch (error) {
      this.warn(`telemetry ${what} failed: ${String(error)}`);
    }
  }

  private async settle(what: string, work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${FLUSH_TIMEOUT_MS} ms`)),
            FLUSH_TIMEOUT_MS,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      this.warn(`telemetry ${what} failed: ${String(error)}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

/**
 * The worker's telemetry: Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set and
 * well-formed; otherwise the silent no-op. A malformed string, or an SDK that fails to start, is
 * reported once as a warning and falls back to the no-op; it never stops the bridge.
 */
export function createTelemetry(
  connectionString: string | undefined,
  warn: (message: string) => void = (m) => console.warn(m),
  options: AppInsightsOptions = {},
): Telemetry {
  if (connectionString === undefined || connectionString.trim() === '') return noopTelemetry;
  const problem = connectionStringProblem(connectionString);
  if (problem) {
    warn(
      `APPLICATIONINSIGHTS_CONNECTION_STRING is malformed (${problem}); telemetry is disabled (no-op) until it is fixed.`,
    );
    return noopTelemetry;
  }
  try {
    return new AppInsightsTelemetry(connectionString.trim(), warn, options);
  } catch (error) {
    warn(`Application Insights failed to start (${String(error)}); telemetry is disabled (no-op).`);
    return noopTelemetry;
  }
}
