/** Sync health, the latency charts and the per-instance rows, from GET /api/metrics. */
import { PercentileChart } from './charts';
import { byId, figures, h, table } from './dom';
import { ago, band, clock, count, ms, percent } from './format';
import type { InstanceRow, Metrics } from './types';

export class SyncPanel {
  private readonly syncChart = new PercentileChart(
    byId('chart-sync'),
    byId('chart-sync-caption'),
    'Sync latency (ms, since each instance started)',
    'syncs',
  );
  private readonly propagationChart = new PercentileChart(
    byId('chart-propagation'),
    byId('chart-propagation-caption'),
    'Propagation: commit → accepted by the bus (ms)',
    'events',
  );
  /** Instances seen since the page opened, so one that disappears is reported missing. */
  private readonly seen = new Map<string, { lastSeen: number; row: InstanceRow }>();

  show(m: Metrics): void {
    const now = Date.now();
    const health = band(m.syncHealth);
    figures(byId('sync-figures'), [
      ['Sync health', health.text, health.tone],
      ['Success rate', percent(m.successRate)],
      ['Syncs', count(m.syncCount)],
      ['Rejected (client)', count(m.rejectedSyncs)],
      ['Failed (server)', count(m.failedSyncs), m.failedSyncs > 0 ? 'bad' : undefined],
      ['Latency p50 / p95 / p99', `${ms(m.latencyMs.p50)} / ${ms(m.latencyMs.p95)} / ${ms(m.latencyMs.p99)}`],
      [
        'Propagation p50 / p95 / p99',
        `${ms(m.propagationMs.p50)} / ${ms(m.propagationMs.p95)} / ${ms(m.propagationMs.p99)}`,
      ],
      ['Events (stored / published)', `${count(m.eventCount)} / ${count(m.eventsPublished)}`],
      ['Publish failures', count(m.publishFailures), m.publishFailures > 0 ? 'warn' : undefined],
      ['Since', clock(m.since)],
    ]);
    this.syncChart.push(now, m.latencyMs, m.syncCount - m.rejectedSyncs);
    this.propagationChart.push(now, m.propagationMs, m.eventsPublished);
    this.showInstances(m, now);
  }

  private showInstances(m: Metrics, now: number): void {
    const listed = new Set(m.instances.map((i) => i.instanceId));
    for (const row of m.instances) this.seen.set(row.instanceId, { lastSeen: now, row });
    const missing = [...this.seen.entries()].filter(([id]) => !listed.has(id));
    const stale = m.instances.filter((i) => i.stale).length;
    const problems = [
      stale > 0
        ? `${stale} stale (no report for over ${m.staleAfterSeconds} s; left out of the figures)`
        : '',
      missing.length > 0 ? `${missing.length} missing (seen earlier, no longer reporting)` : '',
    ].filter(Boolean);
    const summary = byId('instances-summary');
    summary.className = problems.length > 0 ? 'notice warn' : '';
    summary.textContent =
      `${m.instancesMerged} instance(s) merged into the figures above` +
      (problems.length > 0 ? `; ⚠ ${problems.join('; ')}.` : '; every instance is reporting.') +
      ` Each publishes every ${m.publishIntervalSeconds} s.`;
    const rows = [
      ...m.instances.map((i) => {
        const state = i.unreadable
          ? h('span', { class: 'tone-bad' }, `✖ unreadable: ${i.unreadable}`)
          : i.stale
            ? h('span', { class: 'tone-warn' }, `⚠ STALE (${ago(i.ageSeconds)})`)
            : h('span', { class: 'tone-good' }, `✔ live (${ago(i.ageSeconds)})`);
        return [
          `${i.instanceId}${i.self ? ' (answering)' : ''}`,
          state,
          count(i.syncCount),
          band(i.syncHealth).text,
          ms(i.latencyMs.p99),
          ms(i.propagationMs.p99),
          clock(i.startedAt),
        ];
      }),
      ...missing.map(([id, { lastSeen, row }]) => [
        id,
        h('span', { class: 'tone-bad' }, `✖ MISSING (last seen ${ago((now - lastSeen) / 1000)})`),
        count(row.syncCount),
        band(row.syncHealth).text,
        ms(row.latencyMs.p99),
        ms(row.propagationMs.p99),
        clock(row.startedAt),
      ]),
    ];
    table(
      byId<HTMLTableElement>('instances-table'),
      ['Instance', 'State', 'Syncs', 'Health', 'Sync p99', 'Propagation p99', 'Started'],
      rows,
      'No instance has reported yet.',
    );
  }
}
