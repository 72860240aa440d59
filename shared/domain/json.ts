/** JSON values, and the checks that let typed results be stored and hashed as JSON. */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

type JsonPrimitive = string | number | boolean | null;

/**
 * `T` itself when every part of it survives JSON as it is (no functions, dates, maps, …); `never`
 * in the offending places otherwise. Use as a constraint: `<T extends JsonCompatible<T>>`.
 * `undefined` is allowed because JSON leaves optional properties out.
 */
export type JsonCompatible<T> = T extends JsonPrimitive | undefined
  ? T
  : T extends (...args: never[]) => unknown
    ? never
    : T extends readonly (infer U)[]
      ? readonly JsonCompatible<U>[]
      : T extends object
        ? { [K in keyof T]: JsonCompatible<T[K]> }
        : never;

/**
 * A typed result as the JSON object it is stored and answered as (undefined properties left out).
 * Does not compile for a type with parts JSON would change (dates, maps, functions …).
 */
export function toJsonObject<T extends object>(value: T & JsonCompatible<T>): JsonObject {
  const json: JsonObject = JSON.parse(JSON.stringify(value));
  return json;
}

/**
 * A stable text for a value: object keys sorted at every depth, undefined properties left out, so
 * two requests that mean the same thing give the same text (and hash).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
