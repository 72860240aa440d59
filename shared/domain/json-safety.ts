import { RESERVED_KEYS } from './ids';

/**
 * Finds object keys that could pollute a prototype (`__proto__`, `constructor`, `prototype`),
 * at any depth. JSON.parse itself keeps `__proto__` as an own property, but any later
 * `target[key] = value` copy (validators, merges, spreads) would not, so such bodies are refused.
 */
export function findReservedKeys(value: unknown, path = '', found: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => findReservedKeys(item, `${path}/${i}`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const childPath = `${path}/${key}`;
      if (RESERVED_KEYS.has(key)) found.push(childPath);
      else findReservedKeys((value as Record<string, unknown>)[key], childPath, found);
    }
  }
  return found;
}

/** Cheap pre-check on the raw text: only texts that could spell a reserved key need a deep scan. */
export function mayContainReservedKeys(text: string): boolean {
  return (
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype') ||
    text.includes('\\u')
  );
}

/**
 * Deepest nesting of objects and arrays the bridge reads, anywhere JSON comes in (request bodies,
 * imports, settings, queue messages). Everything that walks JSON afterwards (validation, merges,
 * key checks) recurses, so depth is refused before any of it runs.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;
const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

/**
 * Whether JSON text nests objects/arrays deeper than `limit`, found by one pass over the raw text
 * with a counter (no recursion, no parse), skipping string contents. Works on malformed text too:
 * it only ever over-counts text that JSON.parse would refuse anyway.
 */
export function jsonTextTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The same bound for a value already parsed by someone else (an SDK, a queue): an explicit stack. */
export function jsonValueTooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

export const JSON_TOO_DEEP_MESSAGE = `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`;
