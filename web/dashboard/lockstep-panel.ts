/** The lockstep monitor (GET /api/lockstep/status), its timer's runs, and "Run probe". */
import { api, ApiError } from './api';
import { byId, figures, fill, h } from './dom';
import { ago, band, clock, count, ms } from './format';
import type { LockstepStatus, ProbeResult } from './types';

export class LockstepPanel {
  constructor(private readonly refresh: () => void) {
    byId<HTMLButtonElement>('run-probe').addEventListener('click', () => void this.runProbe());
  }

  show(s: LockstepStatus): void {
    const health = band(s.health);
    const consistency = s.consistency.consistent
      ? `✔ consistent (${count(s.consistency.checkedUsers)} users checked)`
      : `✖ ${s.consistency.inconsistent.length} user(s) not published: ${s.consistency.inconsistent
          .slice(0, 5)
          .map((u) => `${u.userId} v${u.stateVersion}`)
          .join(', ')}`;
    figures(byId('lockstep-figures'), [
      ['Lockstep health', health.text, health.tone],
      ['Pending events', count(s.changeFeed.pendingEvents)],
      [
        'Oldest pending event',
        s.changeFeed.oldestPendingAgeMs === null ? 'none' : ms(s.changeFeed.oldestPendingAgeMs),
        s.changeFeed.oldestPendingAgeMs !== null && s.changeFeed.oldestPendingAgeMs > 5000
          ? 'warn'
          : undefined,
      ],
      ['Consistency', consistency, s.consistency.consistent ? 'good' : 'bad'],
      ['Propagation p95', ms(s.propagationMs.p95)],
      ['Checked', clock(s.checkedAt)],
    ]);
    this.showMonitor(s.monitor);
  }

  private showMonitor(m: LockstepStatus['monitor']): void {
    const summary = byId('monitor-summary');
    if (!m.enabled) {
      summary.className = 'notice warn';
      summary.textContent = '⚠ The lockstep monitor timer is off (BRIDGE_LOCKSTEP_MONITOR_ENABLED=false).';
    } else if (!m.last) {
      summary.className = 'notice';
      summary.textContent = `No run recorded yet (schedule ${m.schedule}).`;
    } else {
      const late = m.intervalSeconds !== null && (m.lastRunAgeSeconds ?? 0) > 2.5 * m.intervalSeconds;
      summary.className = late || !m.last.ok ? 'notice warn' : '';
      summary.textContent =
        `Last run ${ago(m.lastRunAgeSeconds)}: ${m.last.ok ? '✔ probe ok' : '✖ probe FAILED'}, health ${band(m.last.health).text}` +
        (late
          ? ` — ⚠ STALE: expected every ${m.intervalSeconds} s (schedule ${m.schedule}).`
          : ` (schedule ${m.schedule}).`);
    }
    fill(
      byId('monitor-runs'),
      ...m.recent.map((run) =>
        h(
          'li',
          {},
          `${clock(run.at)} ${run.ok ? '✔ ok' : '✖ failed'} · sync ${ms(run.syncLatencyMs)} · propagation ${ms(run.propagationLatencyMs)} · ${band(run.health).text}`,
          run.detail ? ` · ${run.detail}` : '',
        ),
      ),
    );
  }

  private async runProbe(): Promise<void> {
    const button = byId<HTMLButtonElement>('run-probe');
    const result = byId('probe-result');
    button.disabled = true;
    result.textContent = 'Probing…';
    try {
      const probe = await api<ProbeResult>('POST', '/lockstep/probe', undefined, 15_000);
      result.textContent = probe.ok
        ? `✔ Probe ok: version ${probe.version}, sync ${ms(probe.syncLatencyMs)}, propagation ${ms(probe.propagationLatencyMs)}.`
        : `✖ Probe failed: ${probe.detail ?? 'no propagation'} (sync ${ms(probe.syncLatencyMs)}).`;
      result.className = probe.ok ? 'tone-good' : 'tone-bad';
    } catch (error) {
      result.textContent = `✖ Probe failed: ${error instanceof ApiError ? error.message : String(error)}`;
      result.className = 'tone-bad';
    } finally {
      button.disabled = false;
      this.refresh();
    }
  }
}
