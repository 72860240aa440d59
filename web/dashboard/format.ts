/** How figures read on the page: every band has a symbol and a word, never a colour alone. */

const BANDS: Record<string, { symbol: string; tone: string }> = {
  EXCELLENT: { symbol: '✔✔', tone: 'good' },
  GOOD: { symbol: '✔', tone: 'good' },
  WARNING: { symbol: '⚠', tone: 'warn' },
  CRITICAL: { symbol: '✖', tone: 'bad' },
  NO_DATA: { symbol: '–', tone: 'none' },
};

/** A band as text with its symbol, e.g. "✔✔ EXCELLENT", and the CSS tone that colours it (as well). */
export function band(value: string | null | undefined): { text: string; tone: string } {
  const key = value ?? 'NO_DATA';
  const known = BANDS[key] ?? { symbol: '?', tone: 'none' };
  return { text: `${known.symbol} ${key.replace('_', ' ')}`, tone: known.tone };
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 100) return `${Math.round(value)} ms`;
  return `${value.toFixed(value >= 10 ? 1 : 2)} ms`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(value === 1 ? 0 : 2)} %`;
}

export function ago(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 1) return 'just now';
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${(seconds / 3600).toFixed(1)} h ago`;
}

export function clock(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString(undefined, { hour12: false });
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en');
}
