/** Webhook subscriptions with their dead letters, and "Redeliver" per subscription. */
import { api, ApiError } from './api';
import { byId, h, table } from './dom';
import { clock } from './format';
import type { DeadLetter, Subscription } from './types';

/** Subscriptions whose dead letters are fetched on each poll (one request each). */
const MAX_SUBSCRIPTIONS = 50;

export interface SubscriptionsView {
  subscriptions: Subscription[];
  deadLetters: Map<string, DeadLetter[]>;
  total: number;
}

export async function loadSubscriptions(): Promise<SubscriptionsView> {
  const { subscriptions } = await api<{ subscriptions: Subscription[] }>('GET', '/subscriptions');
  const shown = subscriptions.slice(0, MAX_SUBSCRIPTIONS);
  const letters = await Promise.all(
    shown.map((s) =>
      api<{ deadLetters: DeadLetter[] }>('GET', `/subscriptions/${encodeURIComponent(s.id)}/dead-letters`),
    ),
  );
  return {
    subscriptions: shown,
    deadLetters: new Map(shown.map((s, i) => [s.id, letters[i]?.deadLetters ?? []])),
    total: subscriptions.length,
  };
}

export class SubscriptionsPanel {
  constructor(private readonly refresh: () => void) {}

  show(view: SubscriptionsView): void {
    table(
      byId<HTMLTableElement>('subscriptions-table'),
      ['Subscription', 'URL', 'Event types', 'Owner', 'Dead letters', ''],
      view.subscriptions.map((s) => {
        const letters = view.deadLetters.get(s.id) ?? [];
        const newest = letters[letters.length - 1];
        return [
          s.id,
          s.url,
          s.eventTypes.join(', '),
          s.createdBy,
          letters.length === 0
            ? h('span', { class: 'tone-good' }, '✔ none')
            : h(
                'span',
                { class: 'tone-bad' },
                `✖ ${letters.length}`,
                newest ? ` (newest ${clock(newest.lastAttemptAt)}: ${newest.lastError})` : '',
              ),
          letters.length === 0 ? '' : this.redeliverButton(s.id, letters.length),
        ];
      }),
      'No webhook subscriptions.',
    );
    if (view.total > view.subscriptions.length) {
      byId('redeliver-result').textContent =
        `Showing the first ${view.subscriptions.length} of ${view.total} subscriptions.`;
    }
  }

  private redeliverButton(id: string, letters: number): HTMLButtonElement {
    const button = h('button', { type: 'button', 'data-subscription': id }, `Redeliver ${letters}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      const result = byId('redeliver-result');
      try {
        const answer = await api<{ requeued: number }>(
          'POST',
          `/subscriptions/${encodeURIComponent(id)}/dead-letters/redeliver`,
          {},
        );
        result.textContent = `✔ ${answer.requeued} dead letter(s) of ${id} put back for delivery.`;
        result.className = 'tone-good';
      } catch (error) {
        result.textContent = `✖ Redelivery failed: ${error instanceof ApiError ? error.message : String(error)}`;
        result.className = 'tone-bad';
      }
      this.refresh();
    });
    return button;
  }
}
