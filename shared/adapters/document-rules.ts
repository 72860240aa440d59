import { StoreError, type BatchOperation } from '../ports/document-store';

/**
 * The DocumentStore rules every adapter enforces the same way (Cosmos DB's limits hold everywhere):
 * operation validation and JSON normalisation, id and partition checks, query limits and paging
 * tokens, batch pre-checks, failing-operation index. The contract suite
 * (tests/contract/document-store.contract.ts) pins the behaviour; adapters only translate.
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

/** A validated write, its body serialised once (so no JSON work happens under a write lock). */
export interface PreparedWrite {
  op: 'create' | 'upsert' | 'replace';
  id: string;
  type: string;
  /** The body as JSON text: dates became strings, undefined members vanished. */
  json: string;
  ttlSeconds?: number;
  /** Never set on create (a create has no version to match). */
  ifMatch?: string;
}

export interface PreparedDelete {
  op: 'delete';
  id: string;
  ifMatch?: string;
}

export type PreparedOperation = PreparedWrite | PreparedDelete;

const WRITE_OPS: ReadonlySet<string> = new Set(['create', 'upsert', 'replace']);

/**
 * Validates one operation: an object with a known `op`, a valid id, a string `ifMatch` (ignored on
 * create), and for writes a non-empty type, a positive whole `ttlSeconds` and a JSON-serialisable
 * body. Anything else is 'invalid'.
 */
export function prepareOperation(op: BatchOperation): PreparedOperation {
  if (typeof op !== 'object' || op === null || Array.isArray(op)) {
    throw new StoreError('invalid', 'an operation must be an object');
  }
  const kind = (op as { op?: unknown }).op;
  if (kind !== 'delete' && !(typeof kind === 'string' && WRITE_OPS.has(kind))) {
    throw new StoreError('invalid', `unknown operation ${JSON.stringify(kind) ?? 'undefined'}`);
  }
  checkId(op.id);
  const ifMatch = op.op === 'create' ? undefined : op.ifMatch;
  if (ifMatch !== undefined && typeof ifMatch !== 'string') {
    throw new StoreError('invalid', 'ifMatch must be a string');
  }
  if (op.op === 'delete')
    return ifMatch === undefined ? { op: 'delete', id: op.id } : { op: 'delete', id: op.id, ifMatch };
  if (typeof op.type !== 'string' || op.type === '') {
    throw new StoreError('invalid', 'type must be a non-empty string');
  }
  if (op.ttlSeconds !== undefined && (!Number.isInteger(op.ttlSeconds) || op.ttlSeconds < 1)) {
    throw new StoreError('invalid', 'ttlSeconds must be a positive integer');
  }
  const prepared: PreparedWrite = { op: op.op, id: op.id, type: op.type, json: serialiseBody(op.body) };
  if (op.ttlSeconds !== undefined) prepared.ttlSeconds = op.ttlSeconds;
  if (ifMatch !== undefined) prepared.ifMatch = ifMatch;
  return prepared;
}

/** A write (create, upsert, replace) for the single-document methods. */
export function prepareWrite(op: Exclude<BatchOperation, { op: 'delete' }>): PreparedWrite {
  const prepared = prepareOperation(op);
  if (prepared.op === 'delete') throw new StoreError('invalid', 'expected a write');
  return prepared;
}

/**
 * Batch pre-checks, then every operation prepared; a failing operation is named by its index. An
 * array of at most MAX_BATCH_OPERATIONS operations, else 'invalid' (nothing applied).
 */
export function prepareBatch(operations: readonly BatchOperation[]): PreparedOperation[] {
  if (!Array.isArray(operations)) throw new StoreError('invalid', 'operations must be an array');
  checkBatchSize(operations);
  return operations.map((op, index) => {
    try {
      return prepareOperation(op);
    } catch (error) {
      throw withOperationIndex(error, index);
    }
  });
}

/** The body as JSON text, or 'invalid' (a cycle, a BigInt, undefined, a function). */
export function serialiseBody(body: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new StoreError('invalid', `body is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new StoreError('invalid', 'body is not JSON-serialisable');
  return json;
}

export function checkContainer(container: unknown): string {
  if (typeof container !== 'string' || container === '') {
    throw new StoreError('invalid', 'container must be a non-empty string');
  }
  return container;
}

/** A change feed page size: a positive whole number (DEFAULT_FEED_ITEMS when not given). */
export function checkFeedItems(maxItems: number | undefined): number {
  const value = maxItems ?? DEFAULT_FEED_ITEMS;
  if (!Number.isInteger(value) || value < 1) {
    throw new StoreError('invalid', 'maxItems must be a positive integer');
  }
  return value;
}
