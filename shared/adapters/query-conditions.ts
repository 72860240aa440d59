import {
  StoreError,
  type BodyPath,
  type FieldCondition,
  type QueryFilter,
  type QueryOrder,
} from '../ports/document-store';

/**
 * The rules of QueryFilter.conditions and QueryFilter.orderBy that every adapter enforces the same
 * way: path and value checks, and the keyset continuation of an ordered query. The SQL each store
 * builds from them lives next to the store (sqlite-query.ts, azure/cosmos-query.ts).
 */

export const MAX_CONDITIONS = 10;
export const MAX_PATH_SEGMENTS = 4;
export const MAX_TEXT_PATHS = 12;
export const MAX_CONTAINS_LENGTH = 100;
/** A path segment: inlined into query text by both stores, so only these characters. */
export const PATH_SEGMENT = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

const RANGE_OPS = new Set(['gt', 'gte', 'lt', 'lte']);

export function checkPath(path: unknown, where: string): BodyPath {
  if (
    !Array.isArray(path) ||
    path.length < 1 ||
    path.length > MAX_PATH_SEGMENTS ||
    !path.every((segment) => typeof segment === 'string' && PATH_SEGMENT.test(segment))
  ) {
    throw new StoreError(
      'invalid',
      `${where}: a path is 1-${MAX_PATH_SEGMENTS} field names of letters, digits, "_", ".", "-"`,
    );
  }
  return path as BodyPath;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates conditions; `containsText` values come back lower-cased (what both stores compare). */
export function checkConditions(conditions: QueryFilter['conditions']): FieldCondition[] {
  if (conditions === undefined) return [];
  if (!Array.isArray(conditions) || conditions.length > MAX_CONDITIONS) {
    throw new StoreError('invalid', `conditions: at most ${MAX_CONDITIONS}`);
  }
  return conditions.map((condition: FieldCondition, index): FieldCondition => {
    const where = `conditions[${index}]`;
    if (typeof condition !== 'object' || condition === null) {
      throw new StoreError('invalid', `${where} must be an object`);
    }
    if (condition.op === 'containsText') {
      const paths = condition.paths;
      if (!Array.isArray(paths) || paths.length < 1 || paths.length > MAX_TEXT_PATHS) {
        throw new StoreError('invalid', `${where}: containsText names 1-${MAX_TEXT_PATHS} paths`);
      }
      const value = condition.value;
      if (typeof value !== 'string' || value.length < 1 || value.length > MAX_CONTAINS_LENGTH) {
        throw new StoreError(
          'invalid',
          `${where}: containsText value is 1-${MAX_CONTAINS_LENGTH} characters`,
        );
      }
      return { op: 'containsText', paths: paths.map((p) => checkPath(p, where)), value: value.toLowerCase() };
    }
    const path = checkPath(condition.path, where);
    const value: unknown = condition.value;
    if (condition.op === 'eq' || condition.op === 'ne') {
      if (typeof value !== 'string' && typeof value !== 'boolean' && !isFiniteNumber(value)) {
        throw new StoreError('invalid', `${where}: the value must be a string, a finite number or a boolean`);
      }
      return { op: condition.op, path, value };
    }
    if (RANGE_OPS.has(condition.op)) {
      if (typeof value !== 'string' && !isFiniteNumber(value)) {
        throw new StoreError('invalid', `${where}: a range compares with a string or a finite number`);
      }
      return { op: condition.op, path, value } as FieldCondition;
    }
    if (condition.op === 'startsWith') {
      if (typeof value !== 'string' || value === '') {
        throw new StoreError('invalid', `${where}: startsWith needs a non-empty string`);
      }
      return { op: 'startsWith', path, value };
    }
    throw new StoreError(
      'invalid',
      `${where}: unknown op ${JSON.stringify((condition as { op?: unknown }).op)}`,
    );
  });
}

export function checkOrder(order: QueryFilter['orderBy']): QueryOrder | undefined {
  if (order === undefined) return undefined;
  if (typeof order !== 'object' || order === null)
    throw new StoreError('invalid', 'orderBy must be an object');
  if (order.direction !== 'asc' && order.direction !== 'desc') {
    throw new StoreError('invalid', 'orderBy.direction is asc or desc');
  }
  return { path: checkPath(order.path, 'orderBy'), direction: order.direction };
}

/** Where an ordered query resumes: after (value, pk, id) in the query's direction. */
export interface OrderedPosition {
  value: string;
  pk: string;
  id: string;
}

const orderKey = (order: QueryOrder) => `${order.path.join('/')}:${order.direction}`;

/** A token bound to its order: a token of another order (or of an unordered query) is invalid. */
export function encodeOrderedContinuation(order: QueryOrder, position: OrderedPosition): string {
  return Buffer.from(
    JSON.stringify(['o1', orderKey(order), position.value, position.pk, position.id]),
  ).toString('base64url');
}

export function decodeOrderedContinuation(token: string, order: QueryOrder): OrderedPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 5 &&
      value[0] === 'o1' &&
      value[1] === orderKey(order) &&
      value.slice(2).every((part) => typeof part === 'string')
    ) {
      return { value: value[2] as string, pk: value[3] as string, id: value[4] as string };
    }
  } catch {
    // fall through to the error below
  }
  throw new StoreError('invalid', 'malformed query continuation (or one from a query with another order)');
}

/** Reads a body path from a parsed body (for stores that compute the continuation from the last item). */
export function valueAt(body: unknown, path: BodyPath): unknown {
  let current: unknown = body;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
  }
  return current;
}
