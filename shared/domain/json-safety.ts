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
