/**
 * The admin debug page (issue 13): sign in with the admin key, then every panel polls its route
 * and says how fresh its figures are.
 */
import { api, ApiError, credential, whenRefused } from './api';
import { byId } from './dom';
import { EventsPanel } from './events-panel';
import { LockstepPanel } from './lockstep-panel';
import { Poller, type Freshness } from './poller';
import { ProvidersPanel } from './providers-panel';
import { loadSubscriptions, SubscriptionsPanel } from './subscriptions-panel';
import { SyncPanel } from './sync-panel';
import type { LockstepStatus, Metrics, Providers } from './types';

const signIn = byId('sign-in');
const board = byId('board');
const signOutButton = byId<HTMLButtonElement>('sign-out');
const connection = byId('connection');
const pollers = new Map<string, Poller<unknown>>();
let ticker: number | undefined;
/** Set once signed in: from then on a refused key signs the page out. */
let live = false;

function showFreshness(name: string, freshness: Freshness): void {
  for (const element of document.querySelectorAll<HTMLElement>(`.freshness[data-for="${name}"]`)) {
    if (freshness.stale) {
      const since =
        freshness.lastOk === undefined
          ? 'never loaded'
          : `no fresh data for ${Math.round((Date.now() - freshness.lastOk) / 1000)} s`;
      element.textContent = `⚠ STALE: ${since}${freshness.lastError ? ` (${freshness.lastError})` : ''}`;
      element.className = 'freshness stale';
    } else if (freshness.lastOk !== undefined) {
      element.textContent = `Updated ${new Date(freshness.lastOk).toLocaleTimeString(undefined, { hour12: false })}`;
      element.className = 'freshness';
    } else {
      element.textContent = 'Loading…';
      element.className = 'freshness';
    }
  }
  const stale = [...pollers.entries()].filter(([, p]) => p.freshness().stale).map(([n]) => n);
  connection.textContent =
    stale.length === 0 ? 'Signed in · live' : `⚠ Signed in · stale data: ${stale.join(', ')}`;
  connection.className = stale.length === 0 ? 'connection' : 'connection stale';
}

function start(): void {
  live = true;
  signIn.hidden = true;
  board.hidden = false;
  signOutButton.hidden = false;
  const sync = new SyncPanel();
  const lockstep = new LockstepPanel(() => void pollers.get('lockstep')?.poll());
  const providers = new ProvidersPanel();
  const events = new EventsPanel();
  const subscriptions = new SubscriptionsPanel(() => void pollers.get('subscriptions')?.poll());
  const add = <T>(name: string, load: () => Promise<T>, intervalMs: number, show: (data: T) => void) => {
    // Each successful poll is counted on <body data-<name>-polls>, in the same task that renders
    // it: what a test (or a person with devtools) reads to see which poll showed what.
    let polls = 0;
    const counted = (data: T) => {
      polls += 1;
      document.body.dataset[`${name}Polls`] = String(polls);
      show(data);
    };
    const poller = new Poller<T>(load, intervalMs, counted, (f) => showFreshness(name, f));
    pollers.set(name, poller as Poller<unknown>);
    poller.start();
  };
  add(
    'metrics',
    () => api<Metrics>('GET', '/metrics'),
    1000,
    (m) => sync.show(m),
  );
  add(
    'lockstep',
    () => api<LockstepStatus>('GET', '/lockstep/status'),
    5000,
    (s) => lockstep.show(s),
  );
  add(
    'providers',
    () => api<Providers>('GET', '/providers?audit=12'),
    5000,
    (p) => providers.show(p),
  );
  add(
    'events',
    () => events.load(),
    1000,
    () => undefined,
  );
  add('subscriptions', loadSubscriptions, 3000, (v) => subscriptions.show(v));
  // Staleness is re-judged every second even while a poll hangs.
  ticker = window.setInterval(() => {
    for (const [name, poller] of pollers) showFreshness(name, poller.freshness());
  }, 1000);
}

function signOut(message?: string): void {
  credential.clear();
  for (const poller of pollers.values()) poller.stop();
  pollers.clear();
  window.clearInterval(ticker);
  // A fresh page: no figures of the signed-out session stay on screen.
  if (message) sessionStorage.setItem('portal-bridge.sign-in-message', message);
  window.location.reload();
}

async function trySignIn(value: string): Promise<void> {
  const error = byId('sign-in-error');
  credential.set(value);
  try {
    // An admin-only route: a key of another role is refused here, not on every panel.
    await api('GET', '/keys');
    start();
  } catch (failure) {
    credential.clear();
    error.hidden = false;
    error.textContent =
      failure instanceof ApiError && failure.status === 403
        ? 'This key is valid but not an admin key.'
        : failure instanceof ApiError && failure.status === 401
          ? 'The key was not accepted.'
          : `Could not reach the bridge: ${String(failure instanceof Error ? failure.message : failure)}`;
  }
}

whenRefused((message) => {
  if (live) signOut(`Signed out: the bridge refused the key (${message}).`);
});
signOutButton.addEventListener('click', () => signOut());
byId<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('admin-key');
  const value = input.value.trim();
  input.value = '';
  if (value) void trySignIn(value);
});

const notice = sessionStorage.getItem('portal-bridge.sign-in-message');
if (notice) {
  sessionStorage.removeItem('portal-bridge.sign-in-message');
  const error = byId('sign-in-error');
  error.hidden = false;
  error.textContent = notice;
}
const saved = credential.get();
if (saved) void trySignIn(saved);
