/**
 * Maps what @azure/cosmos v4 throws (or reports per batch operation) to the port's StoreError, so
 * services never see SDK errors.
 *
 * - An `ErrorResponse` carries the HTTP status in `code` (a number), the headers, and for 429 the
 *   service's `x-ms-retry-after-ms` as `retryAfterInMs`. The SDK has already applied its own retry
 *   policy (the client's `connectionPolicy.retryOptions`) before it throws a 429.
 * - Transport failures are `RestError`s whose `code` is a string (ECONNREFUSED, ENOTFOUND, …) or the
 *   SDK's `TimeoutError`: the account is unreachable, so 'unavailable'.
 * - `Items.batch` wraps every request-level failure into a plain `Error("Batch request error: …")`,
 *   dropping the status and headers; only the service's message survives, so a throttled batch is
 *   recognised by Cosmos DB's 429 message and has no retry-after.
 */
import { StoreError, type StoreErrorCode } from '../../ports/document-store';

const RETRY_AFTER_HEADER = 'x-ms-retry-after-ms';
const BATCH_ERROR_PREFIX = 'Batch request error: ';
/** Cosmos DB's 429 message ("Request rate is large. More Request Units may be needed…"). */
const THROTTLED_MESSAGE = /request rate is large|too ?many ?requests/i;
const TOO_LARGE_MESSAGE = /request size is too large|request entity too large/i;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'REQUEST_SEND_ERROR',
]);

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  retryAfterInMs?: unknown;
  headers?: unknown;
}

/** The StoreError code for an HTTP status from Cosmos DB (404 → not-found, 412 → precondition-failed …). */
export function storeErrorCodeForStatus(status: number): StoreErrorCode {
  switch (status) {
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition-failed';
    case 429:
      return 'throttled';
    case 400:
    case 413:
      return 'invalid';
    default:
      // 401/403 (identity or key rejected), 408, 449, 5xx: the account cannot serve us right now.
      return 'unavailable';
  }
}

/**
 * Turns an error thrown by the SDK into a StoreError. Errors that are neither Cosmos responses nor
 * transport failures (programming errors) are returned unchanged.
 */
export function toStoreError(error: unknown, what: string): unknown {
  if (error instanceof StoreError) return error;
  if (typeof error !== 'object' || error === null) return error;
  const e = error as SdkErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(error);
  const status = httpStatus(e);
  if (status !== undefined) {
    const code = storeErrorCodeForStatus(status);
    const retryAfterMs = code === 'throttled' ? retryAfter(e) : undefined;
    return new StoreError(code, `${what}: Cosmos DB answered ${status}${detail(message)}`, retryAfterMs);
  }
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || e.name === 'RestError')) {
    return new StoreError('unavailable', `${what}: Cosmos DB is unreachable (${e.code})${detail(message)}`);
  }
  if (e.name === 'TimeoutError' || e.code === 'TimeoutError') {
    return new StoreError('unavailable', `${what}: Cosmos DB timed out${detail(message)}`);
  }
  if (error instanceof Error && message.startsWith(BATCH_ERROR_PREFIX)) {
    const inner = message.slice(BATCH_ERROR_PREFIX.length);
    if (THROTTLED_MESSAGE.test(inner)) {
      return new StoreError('throttled', `${what}: Cosmos DB throttled the batch${detail(inner)}`);
    }
    if (TOO_LARGE_MESSAGE.test(inner)) {
      return new StoreError('invalid', `${what}: the batch is too large${detail(inner)}`);
    }
    return new StoreError('unavailable', `${what}: the batch request failed${detail(inner)}`);
  }
  return error;
}

/** The HTTP status of a Cosmos ErrorResponse, if the error is one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorLike;
  for (const candidate of [e.code, e.statusCode]) {
    if (typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 100) return candidate;
  }
  return undefined;
}

function retryAfter(e: SdkErrorLike): number | undefined {
  if (typeof e.retryAfterInMs === 'number' && Number.isFinite(e.retryAfterInMs) && e.retryAfterInMs >= 0) {
    return e.retryAfterInMs;
  }
  const headers = e.headers as Record<string, unknown> | undefined;
  const raw = headers?.[RETRY_AFTER_HEADER];
  const parsed = typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : NaN;
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

function detail(message: string): string {
  // Cosmos messages can carry a whole diagnostics dump; the first line says what went wrong.
  const first = message.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return first === '' ? '' : ` (${first.length > 300 ? `${first.slice(0, 300)}…` : first})`;
}
