/** A JSON value as the store keeps it and the wire carries it (pure type; ports re-export it). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
