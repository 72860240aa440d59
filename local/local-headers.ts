import type { IncomingHttpHeaders } from 'node:http';

/**
 * The Headers of a local request, over the header object node:http already parsed (names in
 * lower case). It behaves as WHATWG Headers do for what handlers use (case-insensitive get/has,
 * sorted iteration, combined values), without copying every header into undici's Headers on each
 * request, which showed up in the sync route's profile.
 */
export class LocalHeaders implements Headers {
  private readonly values_: Map<string, string>;

  constructor(raw: IncomingHttpHeaders | Record<string, string>) {
    this.values_ = new Map();
    for (const name in raw) {
      const value = raw[name];
      if (value === undefined) continue;
      this.values_.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  readonly get = (name: string): string | null => this.values_.get(name.toLowerCase()) ?? null;
  readonly has = (name: string): boolean => this.values_.has(name.toLowerCase());
  readonly set = (name: string, value: string): void => {
    this.values_.set(name.toLowerCase(), String(value));
  };
  readonly append = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const current = this.values_.get(key);
    this.values_.set(key, current === undefined ? String(value) : `${current}, ${value}`);
  };
  readonly delete = (name: string): void => {
    this.values_.delete(name.toLowerCase());
  };
  readonly getSetCookie = (): string[] => {
    const cookie = this.values_.get('set-cookie');
    return cookie === undefined ? [] : [cookie];
  };
  readonly forEach = (callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown) => {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  };
  readonly entries = (): IterableIterator<[string, string]> =>
    [...this.values_.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))[Symbol.iterator]();
  readonly keys = (): IterableIterator<string> => [...this.entries()].map(([key]) => key)[Symbol.iterator]();
  readonly values = (): IterableIterator<string> =>
    [...this.entries()].map(([, value]) => value)[Symbol.iterator]();
  readonly [Symbol.iterator] = (): IterableIterator<[string, string]> => this.entries();
}
