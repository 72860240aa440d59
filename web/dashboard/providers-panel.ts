/** The AI provider lock (GET /api/providers): who holds it and why, each provider, the audit trail. */
import { byId, figures, fill, h, table } from './dom';
import { ago, clock, ms } from './format';
import type { Providers } from './types';

export class ProvidersPanel {
  show(p: Providers): void {
    figures(byId('providers-figures'), [
      ['Active provider', p.active ?? 'none (the next analysis takes the first in line)'],
      ['Why', p.reason ?? '—'],
      ['Since', clock(p.since)],
      ['Chosen by', p.manual ? 'an admin' : 'the lock rules'],
      ['Next in line', p.next],
      [
        'Rules',
        `trip after ${p.rules.failureThreshold} failures or ${p.rules.rateLimitThreshold} rate limits; cooldown ${p.rules.cooldownSeconds} s`,
      ],
    ]);
    table(
      byId<HTMLTableElement>('providers-table'),
      ['#', 'Provider', 'State', 'Failures', 'Last error', 'Last health check'],
      p.providers.map((r) => [
        String(r.position),
        `${r.name}${r.active ? ' (active)' : ''}${r.model ? ` · ${r.model}` : ''}`,
        !r.configured
          ? h('span', { class: 'tone-none' }, '– not configured')
          : r.coolingDown
            ? h('span', { class: 'tone-bad' }, `✖ cooling down, ${r.cooldownRemainingSeconds} s left`)
            : r.healthy
              ? h('span', { class: 'tone-good' }, '✔ healthy')
              : h('span', { class: 'tone-warn' }, '⚠ unhealthy'),
        String(r.consecutiveFailures),
        r.lastError
          ? `${r.lastError.kind} at ${clock(r.lastError.at)}${r.lastError.message ? `: ${r.lastError.message}` : ''}`
          : '—',
        r.lastCheck
          ? `${r.lastCheck.ok ? '✔ ok' : `✖ ${r.lastCheck.kind ?? 'failed'}`} in ${ms(r.lastCheck.latencyMs)}, ${ago((Date.now() - Date.parse(r.lastCheck.at)) / 1000)}`
          : '—',
      ]),
      'No providers.',
    );
    fill(
      byId('providers-audit'),
      ...(p.audit.length === 0
        ? [h('li', {}, 'No lock events yet.')]
        : p.audit
            .slice(0, 12)
            .map((e) =>
              h(
                'li',
                {},
                `${clock(e.at)} ${e.type}`,
                e.provider ? ` ${e.provider}` : '',
                e.type === 'failover' ? ` ${e.from ?? '—'} → ${e.to ?? '—'}` : '',
                e.reason ? `: ${e.reason}` : '',
              ),
            )),
    );
  }
}
