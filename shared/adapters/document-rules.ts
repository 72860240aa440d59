import { StoreError } from '../ports/document-store';

/**
 * The DocumentStore rules every adapter enforces the same way (Cosmos DB's limits hold everywhere):
 * id and partition checks, query limits and paging tokens, batch size, failing-operation index.
 */

export const MAX_BATCH_OPERATIONS = 100;
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
export const DEFAULT_FEED_ITEMS = 100;
/** Top-level body fields a `where` filter may name (they are inlined into query text). */
export const FIELD_NAME = /^[A-Za-z0-9_]+$/;
const FORBIDDEN_ID_CHARS = /[/\\?#]/;
const MAX_ID_LENGTH = 255;

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id !== '' && id.length <= MAX_ID_LENGTH && !FORBIDDEN_ID_CHARS.test(id);
}

export function checkId(id: unknown): void {
  if (!isValidId(id)) {
    throw new StoreError('invalid', `id must be 1-${MAX_ID_LENGTH} characters without / \\ ? or #`);
  }
}

export function checkPk(pk: unknown): string {
  if (typeof pk !== 'string') throw new StoreError('invalid', 'pk must be a string');
  return pk;
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1)
    throw new StoreError('invalid', 'limit must be a positive integer');
  return Math.min(limit, MAX_QUERY_LIMIT);
}

export function checkBatchSize(operations: readonly unknown[]): void {
  if (operations.length > MAX_BATCH_OPERATIONS) {
    throw new StoreError('invalid', `a batch holds at most ${MAX_BATCH_OPERATIONS} operations`);
  }
}

/** Query pages resume after the last (pk, id) returned: stable while data changes. */
export function encodeQueryContinuation(pk: string, id: string): string {
  return Buffer.from(JSON.stringify([pk, id])).toString('base64url');
}

export function decodeQueryContinuation(token: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return [value[0] as string, value[1] as string];
    }
  } catch {
    // fall through to the error below
  }
  throw new StoreError('invalid', 'malformed query continuation');
}

/** Names the failing operation of a batch in its StoreError. */
export function withOperationIndex(error: unknown, index: number): unknown {
  if (error instanceof StoreError && error.operationIndex === undefined) {
    return new StoreError(error.code, `operation ${index}: ${error.message}`, error.retryAfterMs, index);
  }
  return error;
}
