/** Medians, ratios and the two renderings of a bench run: a plain table for stdout, Markdown for RESULTS.md. */
import type { PropagationResult } from './propagation';
import type { LoadResult, Workload } from './load';

export interface RunRow extends LoadResult {
  repeat: number;
  workload: Workload;
  connections: number;
  peakRssBytes: number;
  /** Host only: writes the host itself counted (hot user's version / metrics syncCount), warm-up included. */
  serverWrites?: number;
}

export interface SummaryRow {
  workload: Workload;
  connections: number;
  runs: number;
  reqPerSec: number;
  p50: number;
  p97_5: number;
  p99: number;
  peakRssMb: number;
  maxPeakRssMb: number;
  non2xx: number;
  errors: number;
  /** Median seconds until every connection had an answer (undefined if some run never got there). */
  rampS: number | undefined;
  /** Median over repeats of (this run's req/s ÷ the bare server's req/s in the same repeat). */
  ratioToBare: number | undefined;
  /** Median server CPU µs per answered request (robust to a busy machine). */
  cpuUsPerRequest: number | undefined;
  /** Median over repeats of (bare server's CPU per request ÷ this run's), the CPU-cost view of "x bare". */
  cpuRatioToBare: number | undefined;
}

export const TARGETS = { connections: 500, ratio: 0.6, p99Ms: 75, peakRssMb: 128 };

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const MB = 1024 * 1024;

export function summarise(rows: RunRow[]): SummaryRow[] {
  const groups = new Map<string, RunRow[]>();
  for (const row of rows) {
    const key = `${row.connections}:${row.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const bareOf = (repeat: number, connections: number) =>
    rows.find((r) => r.workload === 'bare' && r.repeat === repeat && r.connections === connections);
  return [...groups.values()].map((group) => {
    const first = group[0] as RunRow;
    const ratios = group.flatMap((row) => {
      const bare = bareOf(row.repeat, row.connections);
      return bare && bare.reqPerSec > 0 ? [row.reqPerSec / bare.reqPerSec] : [];
    });
    const cpuRatios = group.flatMap((row) => {
      const bare = bareOf(row.repeat, row.connections);
      return bare?.cpuUsPerRequest && row.cpuUsPerRequest ? [bare.cpuUsPerRequest / row.cpuUsPerRequest] : [];
    });
    const cpus = group.flatMap((row) => (row.cpuUsPerRequest !== undefined ? [row.cpuUsPerRequest] : []));
    return {
      cpuUsPerRequest: cpus.length > 0 ? median(cpus) : undefined,
      cpuRatioToBare: cpuRatios.length > 0 ? median(cpuRatios) : undefined,
      workload: first.workload,
      connections: first.connections,
      runs: group.length,
      reqPerSec: median(group.map((r) => r.reqPerSec)),
      p50: median(group.map((r) => r.p50)),
      p97_5: median(group.map((r) => r.p97_5)),
      p99: median(group.map((r) => r.p99)),
      peakRssMb: median(group.map((r) => r.peakRssBytes / MB)),
      maxPeakRssMb: Math.max(...group.map((r) => r.peakRssBytes / MB)),
      non2xx: group.reduce((sum, r) => sum + r.non2xx, 0),
      errors: group.reduce((sum, r) => sum + r.errors, 0),
      rampS: group.every((r) => r.rampS !== undefined)
        ? median(group.map((r) => r.rampS as number))
        : undefined,
      ratioToBare: ratios.length > 0 ? median(ratios) : undefined,
    };
  });
}

/** Target verdicts for the sync scenarios at 500 connections (recorded, never asserted). */
export function targetChecks(summary: SummaryRow[]): string[] {
  return summary
    .filter((s) => s.workload !== 'bare' && s.connections === TARGETS.connections)
    .map((s) => {
      const checks = [
        [
          `throughput ${fmt(s.ratioToBare, 2)}x bare (≥ ${TARGETS.ratio})`,
          (s.ratioToBare ?? 0) >= TARGETS.ratio,
        ],
        [`p99 ${fmt(s.p99, 1)} ms (≤ ${TARGETS.p99Ms})`, s.p99 <= TARGETS.p99Ms],
        [
          `peak RSS ${fmt(s.maxPeakRssMb, 1)} MB, highest run (≤ ${TARGETS.peakRssMb})`,
          s.maxPeakRssMb <= TARGETS.peakRssMb,
        ],
        [`non-2xx ${s.non2xx}, errors ${s.errors} (0)`, s.non2xx === 0 && s.errors === 0],
      ] as const;
      const verdicts = checks.map(([label, met]) => `${met ? 'met' : 'MISSED'}: ${label}`);
      return `${s.workload} @ ${s.connections}: ${verdicts.join('; ')}`;
    });
}

function fmt(value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

/** A table column: its header and how a row fills it; heads and cells cannot drift apart. */
type Column<R> = [string, (row: R) => string];

const SCENARIO_NAMES: Record<Workload, string> = {
  bare: 'bare node:http',
  hot: 'sync, one hot user',
  distinct: 'sync, distinct users',
};

const SUMMARY_COLUMNS: Column<SummaryRow>[] = [
  ['scenario', (s) => SCENARIO_NAMES[s.workload]],
  ['conns', (s) => String(s.connections)],
  ['runs', (s) => String(s.runs)],
  ['req/s', (s) => fmt(s.reqPerSec, 0)],
  ['p50 ms', (s) => fmt(s.p50, 1)],
  ['p97.5 ms', (s) => fmt(s.p97_5, 1)],
  ['p99 ms', (s) => fmt(s.p99, 1)],
  ['peak RSS MB', (s) => `${fmt(s.peakRssMb, 1)} (max ${fmt(s.maxPeakRssMb, 1)})`],
  ['non-2xx', (s) => String(s.non2xx)],
  ['errors', (s) => String(s.errors)],
  ['ramp s', (s) => fmt(s.rampS, 1)],
  ['x bare', (s) => (s.workload === 'bare' ? '1.00' : fmt(s.ratioToBare, 2))],
  ['CPU µs/req', (s) => fmt(s.cpuUsPerRequest, 0)],
  ['CPU x bare', (s) => (s.workload === 'bare' ? '1.00' : fmt(s.cpuRatioToBare, 2))],
];

const RUN_COLUMNS: Column<RunRow>[] = [
  ['repeat', (r) => String(r.repeat)],
  ['scenario', (r) => r.workload],
  ['conns', (r) => String(r.connections)],
  ['req/s', (r) => fmt(r.reqPerSec, 0)],
  ['p50', (r) => fmt(r.p50, 1)],
  ['p97.5', (r) => fmt(r.p97_5, 1)],
  ['p99', (r) => fmt(r.p99, 1)],
  ['max', (r) => fmt(r.maxMs, 0)],
  ['peak RSS MB', (r) => fmt(r.peakRssBytes / MB, 1)],
  ['CPU µs/req', (r) => fmt(r.cpuUsPerRequest, 0)],
  ['2xx', (r) => String(r.total2xx)],
  ['non-2xx', (r) => String(r.non2xx)],
  ['errors', (r) => String(r.errors)],
  ['ramp s', (r) => fmt(r.rampS, 1)],
  ['online', (r) => String(r.online)],
  [
    'server writes / client 2xx',
    (r) => (r.serverWrites === undefined ? '–' : `${r.serverWrites} / ${r.all2xx}`),
  ],
];

const heads = <R>(columns: Column<R>[]) => columns.map(([head]) => head);
const cells = <R>(columns: Column<R>[], rows: R[]) => rows.map((row) => columns.map(([, cell]) => cell(row)));

export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export const summaryText = (summary: SummaryRow[]) =>
  textTable(heads(SUMMARY_COLUMNS), cells(SUMMARY_COLUMNS, summary));
export const runsText = (rows: RunRow[]) => textTable(heads(RUN_COLUMNS), cells(RUN_COLUMNS, rows));

export interface RunInfo {
  date: string;
  command: string;
  machine: string;
  settings: string;
  smoke: boolean;
}

export function markdownSection(info: RunInfo, rows: RunRow[], summary: SummaryRow[], extra = ''): string {
  const title = info.smoke ? `${info.date} — SMOKE RUN (short; not a result)` : info.date;
  const head = [`## ${title}`, '', `- Command: \`${info.command}\``, `- Machine: ${info.machine}`];
  if (rows.length === 0) return [...head, '', extra].join('\n');
  return [
    ...head,
    `- Settings: ${info.settings}`,
    '',
    'Medians over the repeats (latencies in ms, measured window only); "x bare" is the median of per-repeat ratios to ' +
      'the bare server measured in the same repeat; "ramp s" is how long it took until every connection had had an ' +
      'answer (the measured window opens only after that); non-2xx and errors are summed over the repeats.',
    '',
    markdownTable(heads(SUMMARY_COLUMNS), cells(SUMMARY_COLUMNS, summary)),
    '',
    `Targets at ${TARGETS.connections} connections (recorded, not asserted):`,
    '',
    ...targetChecks(summary).map((line) => `- ${line}`),
    '',
    '<details><summary>Every run</summary>',
    '',
    markdownTable(heads(RUN_COLUMNS), cells(RUN_COLUMNS, rows)),
    '',
    '</details>',
    '',
    extra,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Event propagation (sync acknowledged → webhook received) and the throughput cost of webhooks.

export interface PropagationRow extends PropagationResult {
  repeat: number;
  connections: number;
  peakRssBytes: number;
}

export interface PropagationSummary {
  connections: number;
  runs: number;
  /** Medians over the repeats of the subscribed runs. */
  p50: number;
  p95: number;
  p99: number;
  /** Highest single propagation time over every subscribed run. */
  max: number;
  events: number;
  lost: number;
  duplicated: number;
  conflicting: number;
  unverified: number;
  /** Median req/s without a subscriber and with one, and the median per-repeat ratio with/without. */
  reqPerSecWithout: number;
  reqPerSecWith: number;
  ratio: number | undefined;
  /** Highest peak RSS of the host over the subscribed runs, MB. */
  maxPeakRssMb: number;
  /** Syncs refused with 503 (backpressure) or failed, summed over the subscribed runs. */
  non2xx: number;
}

/** Issue 11: with 100 closed-loop writers saturating the host, a webhook still sees changes quickly. */
export const PROPAGATION_TARGETS = { connections: 100, p95Ms: 250, peakRssMb: 256 };

export function summarisePropagation(rows: PropagationRow[]): PropagationSummary[] {
  const levels = [...new Set(rows.map((r) => r.connections))];
  return levels.map((connections) => {
    const at = rows.filter((r) => r.connections === connections);
    const withSub = at.filter((r) => r.subscribed);
    const without = at.filter((r) => !r.subscribed);
    const ratios = withSub.flatMap((row) => {
      const base = without.find((r) => r.repeat === row.repeat);
      return base && base.reqPerSec > 0 ? [row.reqPerSec / base.reqPerSec] : [];
    });
    const sum = (pick: (r: PropagationRow) => number | undefined) =>
      withSub.reduce((total, r) => total + (pick(r) ?? 0), 0);
    return {
      connections,
      runs: withSub.length,
      p50: median(withSub.map((r) => r.propP50 ?? Number.NaN)),
      p95: median(withSub.map((r) => r.propP95 ?? Number.NaN)),
      p99: median(withSub.map((r) => r.propP99 ?? Number.NaN)),
      max: Math.max(...withSub.map((r) => r.propMax ?? 0)),
      events: sum((r) => r.measured),
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      conflicting: sum((r) => r.conflicting),
      unverified: sum((r) => r.unverified),
      reqPerSecWithout: median(without.map((r) => r.reqPerSec)),
      reqPerSecWith: median(withSub.map((r) => r.reqPerSec)),
      ratio: ratios.length > 0 ? median(ratios) : undefined,
      maxPeakRssMb: Math.max(...withSub.map((r) => r.peakRssBytes / MB)),
      non2xx: sum((r) => r.non2xx),
    };
  });
}

export function propagationChecks(summary: PropagationSummary[]): string[] {
  const t = PROPAGATION_TARGETS;
  return summary
    .filter((s) => s.connections === t.connections)
    .map((s) => {
      const checks = [
        [`propagation p95 ${fmt(s.p95, 1)} ms (≤ ${t.p95Ms})`, s.p95 <= t.p95Ms],
        [`lost ${s.lost}, conflicting ${s.conflicting} (0)`, s.lost + s.conflicting === 0],
        [
          `peak RSS ${fmt(s.maxPeakRssMb, 1)} MB, highest subscribed run (≤ ${t.peakRssMb})`,
          s.maxPeakRssMb <= t.peakRssMb,
        ],
      ] as const;
      const info =
        `reported: p99 ${fmt(s.p99, 1)} ms, ${s.duplicated} ids delivered twice (at least once allows it), ` +
        `${s.non2xx} syncs answered non-2xx (503 = backpressure), sync ${fmt(s.reqPerSecWith, 0)} req/s with the ` +
        `webhook = ${fmt(s.ratio, 2)}x without`;
      return `events @ ${s.connections} writers: ${checks.map(([label, met]) => `${met ? 'met' : 'MISSED'}: ${label}`).join('; ')}; ${info}`;
    });
}

const PROPAGATION_SUMMARY_COLUMNS: Column<PropagationSummary>[] = [
  ['writers', (s) => String(s.connections)],
  ['runs', (s) => String(s.runs)],
  ['events', (s) => String(s.events)],
  ['prop p50 ms', (s) => fmt(s.p50, 1)],
  ['prop p95 ms', (s) => fmt(s.p95, 1)],
  ['prop p99 ms', (s) => fmt(s.p99, 1)],
  ['prop max ms', (s) => fmt(s.max, 0)],
  ['lost', (s) => String(s.lost)],
  ['dup ids', (s) => String(s.duplicated)],
  ['conflicting ids', (s) => String(s.conflicting)],
  ['unverified', (s) => String(s.unverified)],
  ['sync req/s no sub', (s) => fmt(s.reqPerSecWithout, 0)],
  ['sync req/s webhook', (s) => fmt(s.reqPerSecWith, 0)],
  ['x no sub', (s) => fmt(s.ratio, 2)],
];

const PROPAGATION_RUN_COLUMNS: Column<PropagationRow>[] = [
  ['repeat', (r) => String(r.repeat)],
  ['subscriber', (r) => (r.subscribed ? 'webhook' : 'none')],
  ['writers', (r) => String(r.connections)],
  ['req/s', (r) => fmt(r.reqPerSec, 0)],
  ['sync p50', (r) => fmt(r.syncP50, 1)],
  ['sync p99', (r) => fmt(r.syncP99, 1)],
  ['non-2xx', (r) => String(r.non2xx)],
  ['errors', (r) => String(r.errors)],
  ['acked / measured', (r) => `${r.acked} / ${r.measured}`],
  ['prop p50', (r) => fmt(r.propP50, 1)],
  ['prop p95', (r) => fmt(r.propP95, 1)],
  ['prop p99', (r) => fmt(r.propP99, 1)],
  ['prop max', (r) => fmt(r.propMax, 0)],
  ['before ack', (r) => (r.beforeAck === undefined ? '–' : String(r.beforeAck))],
  ['lost', (r) => (r.lost === undefined ? '–' : String(r.lost))],
  ['dup', (r) => (r.duplicated === undefined ? '–' : String(r.duplicated))],
  ['drain s', (r) => fmt(r.drainS, 1)],
  ['peak RSS MB', (r) => fmt(r.peakRssBytes / MB, 1)],
];

export const propagationSummaryText = (summary: PropagationSummary[]) =>
  textTable(heads(PROPAGATION_SUMMARY_COLUMNS), cells(PROPAGATION_SUMMARY_COLUMNS, summary));
export const propagationRunsText = (rows: PropagationRow[]) =>
  textTable(heads(PROPAGATION_RUN_COLUMNS), cells(PROPAGATION_RUN_COLUMNS, rows));

export function propagationMarkdown(
  settings: string,
  rows: PropagationRow[],
  summary: PropagationSummary[],
): string {
  return [
    '### Event propagation: sync acknowledged → webhook received',
    '',
    `- Settings: ${settings}`,
    '',
    "Propagation percentiles are medians over the repeats of each run's p50/p95/p99 over the events acknowledged in " +
      'its measured window; "max" is the highest over all runs. lost = acknowledged but never delivered (after the ' +
      'drain); dup ids = ids delivered more than once; conflicting ids = one id delivered with two different bodies; ' +
      'all three summed over the repeats. "x no sub" is the median per-repeat ratio of sync req/s with the webhook ' +
      'subscriber to req/s of the same load on a host without subscribers.',
    '',
    markdownTable(heads(PROPAGATION_SUMMARY_COLUMNS), cells(PROPAGATION_SUMMARY_COLUMNS, summary)),
    '',
    `Targets at ${PROPAGATION_TARGETS.connections} writers (recorded, not asserted):`,
    '',
    ...propagationChecks(summary).map((line) => `- ${line}`),
    '',
    '<details><summary>Every propagation run</summary>',
    '',
    markdownTable(heads(PROPAGATION_RUN_COLUMNS), cells(PROPAGATION_RUN_COLUMNS, rows)),
    '',
    '</details>',
    '',
  ].join('\n');
}
