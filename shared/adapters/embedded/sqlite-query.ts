import type { Database } from 'better-sqlite3';
import type { BodyPath, FieldCondition, QueryOrder } from '../../ports/document-store';
import type { OrderedPosition } from '../query-conditions';

/**
 * SQL for QueryFilter.conditions and orderBy over the embedded store's `docs.body` JSON column.
 * Paths and values are bound parameters; only the fixed shape of each clause is query text. The
 * semantics are the contract's (see FieldCondition): type-strict, `ne` matching missing fields.
 */

/** The case-insensitive substring test of `containsText`, with JavaScript's lower-casing (as Cosmos DB's LOWER). */
export const CONTAINS_FUNCTION = 'bridge_icontains';

export function registerQueryFunctions(db: Database): void {
  db.function(CONTAINS_FUNCTION, { deterministic: true }, (text: unknown, needle: unknown) =>
    typeof text === 'string' && typeof needle === 'string' && text.toLowerCase().includes(needle) ? 1 : 0,
  );
}

/** `$."a"."b"`: segments are checked (no quotes), so quoting them is enough. */
export const jsonPath = (path: BodyPath) => `$.${path.map((segment) => `"${segment}"`).join('.')}`;

type Params = Record<string, string | number>;

const OPERATORS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** A type test and the extracted value for a string or a number at `p` (a bound path). */
function typed(p: string, value: string | number | boolean): string {
  if (typeof value === 'boolean') return `json_type(body, @${p}) = '${value ? 'true' : 'false'}'`;
  if (typeof value === 'string') return `json_type(body, @${p}) = 'text'`;
  return `json_type(body, @${p}) IN ('integer', 'real')`;
}

/** WHERE clauses for validated conditions (query-conditions.ts checkConditions); adds their parameters. */
export function conditionClauses(conditions: readonly FieldCondition[], params: Params): string[] {
  return conditions.map((condition, index) => {
    const name = `c${index}`;
    if (condition.op === 'containsText') {
      params[`${name}v`] = condition.value;
      const tests = condition.paths.map((path, i) => {
        params[`${name}p${i}`] = jsonPath(path);
        return `(json_type(body, @${name}p${i}) = 'text' AND ${CONTAINS_FUNCTION}(json_extract(body, @${name}p${i}), @${name}v))`;
      });
      return `(${tests.join(' OR ')})`;
    }
    params[name] = jsonPath(condition.path);
    const value = condition.value;
    if (typeof value !== 'boolean') params[`${name}v`] = value;
    const extracted = `json_extract(body, @${name})`;
    switch (condition.op) {
      case 'eq':
      case 'ne': {
        const equal =
          typeof value === 'boolean'
            ? typed(name, value)
            : `${typed(name, value)} AND ${extracted} = @${name}v`;
        // A missing field makes the test NULL; coalesce turns that into "not equal".
        return condition.op === 'eq' ? `(${equal})` : `NOT coalesce((${equal}), 0)`;
      }
      case 'startsWith':
        return `(${typed(name, '')} AND substr(${extracted}, 1, length(@${name}v)) = @${name}v)`;
      default:
        return `(${typed(name, value)} AND ${extracted} ${OPERATORS[condition.op]} @${name}v)`;
    }
  });
}

/** ORDER BY for an ordered query, with the keyset clause that resumes after `after`. */
export function orderClauses(
  order: QueryOrder | undefined,
  after: OrderedPosition | undefined,
  params: Params,
): { where: string[]; orderBy: string } {
  if (!order) return { where: [], orderBy: 'pk, id' };
  params.orderPath = jsonPath(order.path);
  const value = 'json_extract(body, @orderPath)';
  const where = ["json_type(body, @orderPath) = 'text'"];
  const direction = order.direction === 'asc' ? 'ASC' : 'DESC';
  if (after) {
    Object.assign(params, { afterValue: after.value, afterPk: after.pk, afterId: after.id });
    where.push(
      `(${value}, pk, id) ${order.direction === 'asc' ? '>' : '<'} (@afterValue, @afterPk, @afterId)`,
    );
  }
  return { where, orderBy: `${value} ${direction}, pk ${direction}, id ${direction}` };
}
