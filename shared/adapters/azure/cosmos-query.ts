/**
 * The Cosmos DB SQL behind DocumentStore.query and count: parameterised filters over the item shape
 * of ../cosmos-item.ts, the same validation as the embedded store, and keyset paging.
 *
 * Paging is keyset, not the SDK's continuation token: each page is `SELECT TOP limit+1 … ORDER BY
 * c.pk, c.id` after the last (pk, id) returned. That gives the embedded store's semantics exactly —
 * no token on the last page, stable pages while documents change between calls, a token that can be
 * validated ('invalid' when malformed) — and costs one composite index (/pk, /id), which
 * BRIDGE_CONTAINER_DEFINITION in cosmos-document-store.ts declares. SDK tokens for cross-partition ORDER BY queries
 * are large, SDK-version specific, and may come back on a page that has nothing after it.
 */
import type { SqlParameter, SqlQuerySpec } from '@azure/cosmos';
import {
  StoreError,
  type BodyPath,
  type FieldCondition,
  type QueryFilter,
  type QueryOrder,
} from '../../ports/document-store';
import { checkLimit, decodeQueryContinuation, FIELD_NAME } from '../document-rules';
import {
  checkConditions,
  checkOrder,
  decodeOrderedContinuation,
  type OrderedPosition,
} from '../query-conditions';

/** WHERE clauses shared by query and count; expired items (by the store clock) never match. */
export function buildWhere(
  filter: Omit<QueryFilter, 'limit' | 'continuation'>,
  now: number,
): { where: string[]; parameters: SqlParameter[] } {
  const where = ['(NOT IS_DEFINED(c.expiresAtMs) OR c.expiresAtMs > @now)'];
  const parameters: SqlParameter[] = [{ name: '@now', value: now }];
  if (filter.type !== undefined) {
    where.push('c.type = @type');
    parameters.push({ name: '@type', value: filter.type });
  }
  if (filter.pk !== undefined) {
    where.push('c.pk = @pk');
    parameters.push({ name: '@pk', value: filter.pk });
  }
  if (filter.idPrefix !== undefined) {
    // STARTSWITH compares literally (no LIKE wildcards to escape) and case-sensitively.
    where.push('STARTSWITH(c.id, @idPrefix)');
    parameters.push({ name: '@idPrefix', value: filter.idPrefix });
  }
  where.push(...conditionClauses(checkConditions(filter.conditions), parameters));
  Object.entries(filter.where ?? {}).forEach(([field, value], index) => {
    // The name is inlined (property names cannot be parameters), so it is validated first.
    if (!FIELD_NAME.test(field))
      throw new StoreError('invalid', `where: bad field name ${JSON.stringify(field)}`);
    const path = `c.body["${field}"]`;
    const name = `@w${index}`;
    // Type-strict like the embedded store: 1 matches neither "1" nor true, objects match no string.
    if (typeof value === 'boolean') where.push(`IS_BOOL(${path}) AND ${path} = ${name}`);
    else if (typeof value === 'string') where.push(`IS_STRING(${path}) AND ${path} = ${name}`);
    else if (typeof value === 'number' && Number.isFinite(value)) {
      where.push(`IS_NUMBER(${path}) AND ${path} = ${name}`);
    } else {
      throw new StoreError('invalid', `where.${field} must be a string, a finite number or a boolean`);
    }
    parameters.push({ name, value });
  });
  return { where, parameters };
}

/**
 * One page of a query: TOP limit+1 after the continuation's position. Unordered: (pk, id) order.
 * Ordered: (value, pk, id) in the order's direction, with the filtered `type` first when there is
 * one — Cosmos DB serves that ORDER BY from a composite index (/type, /body/<field>, /pk, /id), which
 * BRIDGE_CONTAINER_DEFINITION and infra/modules/cosmos.bicep declare for the fields services sort by.
 */
export function pageQuery(
  filter: QueryFilter,
  now: number,
): { spec: SqlQuerySpec; limit: number; order?: QueryOrder } {
  const limit = checkLimit(filter.limit);
  const order = checkOrder(filter.orderBy);
  const { where, parameters } = buildWhere(filter, now);
  let orderBy = 'c.pk, c.id';
  if (order) {
    let after: OrderedPosition | undefined;
    if (filter.continuation !== undefined) after = decodeOrderedContinuation(filter.continuation, order);
    const field = bodyPath(order.path);
    const dir = order.direction === 'asc' ? 'ASC' : 'DESC';
    const cmp = order.direction === 'asc' ? '>' : '<';
    where.push(`IS_STRING(${field})`);
    if (after) {
      where.push(
        `(${field} ${cmp} @afterValue OR (${field} = @afterValue AND ` +
          `(c.pk ${cmp} @afterPk OR (c.pk = @afterPk AND c.id ${cmp} @afterId))))`,
      );
      parameters.push(
        { name: '@afterValue', value: after.value },
        { name: '@afterPk', value: after.pk },
        { name: '@afterId', value: after.id },
      );
    }
    orderBy = [
      ...(filter.type !== undefined ? [`c.type ${dir}`] : []),
      `${field} ${dir}`,
      `c.pk ${dir}`,
      `c.id ${dir}`,
    ].join(', ');
  } else if (filter.continuation !== undefined) {
    const [afterPk, afterId] = decodeQueryContinuation(filter.continuation);
    where.push('(c.pk > @afterPk OR (c.pk = @afterPk AND c.id > @afterId))');
    parameters.push({ name: '@afterPk', value: afterPk }, { name: '@afterId', value: afterId });
  }
  // limit is a validated integer, so inlining TOP is safe (and works on every emulator).
  const query = `SELECT TOP ${limit + 1} * FROM c WHERE ${where.join(' AND ')} ORDER BY ${orderBy}`;
  return { spec: { query, parameters }, limit, ...(order ? { order } : {}) };
}

/** `c.body["a"]["b"]`: segments are checked (no quotes or brackets), so inlining them is safe. */
export const bodyPath = (path: BodyPath) => `c.body${path.map((segment) => `["${segment}"]`).join('')}`;

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function typeTest(field: string, value: string | number | boolean): string {
  if (typeof value === 'boolean') return `IS_BOOL(${field})`;
  return typeof value === 'string' ? `IS_STRING(${field})` : `IS_NUMBER(${field})`;
}

/**
 * Validated conditions as Cosmos SQL. Every clause is a boolean even for missing fields (an
 * IS_<TYPE> test first: `false AND undefined` is false in Cosmos DB), so NOT works for `ne`.
 */
function conditionClauses(conditions: readonly FieldCondition[], parameters: SqlParameter[]): string[] {
  return conditions.map((condition, index) => {
    const name = `@c${index}`;
    parameters.push({ name, value: condition.value });
    if (condition.op === 'containsText') {
      const tests = condition.paths.map((path) => {
        const field = bodyPath(path);
        return `(IS_STRING(${field}) AND CONTAINS(LOWER(${field}), ${name}))`;
      });
      return `(${tests.join(' OR ')})`;
    }
    const field = bodyPath(condition.path);
    switch (condition.op) {
      case 'eq':
        return `(${typeTest(field, condition.value)} AND ${field} = ${name})`;
      case 'ne':
        return `NOT (${typeTest(field, condition.value)} AND ${field} = ${name})`;
      case 'startsWith':
        return `(IS_STRING(${field}) AND STARTSWITH(${field}, ${name}))`;
      default:
        return `(${typeTest(field, condition.value)} AND ${field} ${RANGE[condition.op]} ${name})`;
    }
  });
}

export function countQuery(filter: Omit<QueryFilter, 'limit' | 'continuation'>, now: number): SqlQuerySpec {
  const { where, parameters } = buildWhere(filter, now);
  return { query: `SELECT VALUE COUNT(1) FROM c WHERE ${where.join(' AND ')}`, parameters };
}
