import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import type { DocumentStore } from '../../../shared/ports/document-store';
import { ServiceError } from '../../../shared/services/errors';
import {
  LOCK_DOC_ID,
  LOCK_PARTITION,
  ProviderLockService,
  type LockPolicySettings,
} from '../../../shared/services/provider-lock-service';
import { ManualClock } from '../../helpers/test-services';

const policy: LockPolicySettings = {
  order: ['openai', 'gemini', 'groq'],
  configured: ['openai', 'gemini', 'groq'],
  failureThreshold: 3,
  rateLimitThreshold: 3,
  cooldownMs: 300_000,
};

describe('ProviderLockService (the lock in the document store)', () => {
  let dir: string;
  let store: DocumentStore;
  let clock: ManualClock;
  const lock = (p: LockPolicySettings = policy) =>
    new ProviderLockService(store.collection('state'), clock, p);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-lock-'));
    clock = new ManualClock();
    store = openSqliteDocumentStore(dir, { clock });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first use gives the lock to the first in line, once', async () => {
    const a = lock();
    await expect(a.active()).resolves.toMatchObject({
      provider: 'openai',
      reason: expect.stringMatching(/^auto: first in line/),
    });
    await a.active();
    const view = await a.view();
    expect(view.audit.filter((e) => e.type === 'acquire')).toHaveLength(1);
    expect(view).toMatchObject({ active: 'openai', next: 'openai', manual: false });
  });

  it('with nothing configured the heuristic holds the lock', async () => {
    await expect(lock({ ...policy, configured: [] }).active()).resolves.toMatchObject({
      provider: 'heuristic',
    });
  });

  it('a second instance over the same store sees the same lock', async () => {
    const a = lock();
    const b = lock();
    await a.active();
    await a.failed('openai', 'auth', '401');
    await expect(b.active()).resolves.toMatchObject({
      provider: 'gemini',
      reason: 'failover from openai: authentication error',
    });
  });

  it('two instances failing over at the same moment end with one provider and one failover', async () => {
    const a = lock();
    const b = lock();
    await a.active();
    // Two failures each; the third and fourth arrive together from both instances.
    await a.failed('openai', 'server');
    await b.failed('openai', 'server');
    let lostRaces = 0;
    const upsert = store.upsert.bind(store);
    store.upsert = (async (...args: Parameters<DocumentStore['upsert']>) => {
      try {
        return await upsert(...args);
      } catch (error) {
        lostRaces += 1;
        throw error;
      }
    }) as DocumentStore['upsert'];
    const results = await Promise.all([a.failed('openai', 'server'), b.failed('openai', 'server')]);
    expect(lostRaces).toBeGreaterThan(0); // the race really happened
    expect(results.filter((r) => r.failedOver)).toHaveLength(1);
    const view = await a.view();
    expect(view.active).toBe('gemini');
    expect(view.audit.filter((e) => e.type === 'failover')).toHaveLength(1);
    expect(view.providers.find((p) => p.name === 'openai')).toMatchObject({
      coolingDown: true,
      consecutiveFailures: 4,
    });
  });

  it('many concurrent failures from many instances never fail over twice for one trip', async () => {
    const instances = Array.from({ length: 6 }, () => lock());
    await instances[0]?.active();
    await Promise.all(
      instances.flatMap((i) => [i.failed('openai', 'rate-limit'), i.failed('openai', 'rate-limit')]),
    );
    const view = await instances[0]!.view(1000);
    expect(view.active).toBe('gemini');
    expect(view.audit.filter((e) => e.type === 'failover')).toHaveLength(1);
    expect(view.audit.filter((e) => e.type === 'tripped')).toHaveLength(1);
  });

  it('an admin acquire is kept; an unknown provider is 400 and writes nothing, a cooling one 409 and audited', async () => {
    const a = lock();
    await a.active();
    await a.acquire('groq', 'testing groq');
    expect(await a.view()).toMatchObject({ active: 'groq', reason: 'testing groq', manual: true });
    await expect(a.acquire('mistral', 'x')).rejects.toMatchObject({ kind: 'validation' });
    await a.failed('gemini', 'auth');
    const error = await a.acquire('gemini', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/cooling down/) });
    const view = await a.view();
    expect(view.active).toBe('groq');
    expect(view.audit.filter((e) => e.type === 'acquire-rejected').map((e) => e.reason)).toEqual([
      'cooling-down',
    ]);
  });

  it('release frees the lock and the next use gives it to the first in line', async () => {
    const a = lock();
    await a.acquire('groq', 'manual');
    await a.release('maintenance over');
    expect(await a.view()).toMatchObject({ active: null, reason: 'maintenance over' });
    await expect(a.active()).resolves.toMatchObject({
      provider: 'openai',
      reason: 'auto: first in line (maintenance over)',
    });
  });

  it('after failing down to the heuristic, the lock returns to a provider whose cooldown has passed', async () => {
    const a = lock();
    await a.active();
    for (const p of ['openai', 'gemini', 'groq']) await a.failed(p, 'auth');
    await expect(a.active()).resolves.toMatchObject({
      provider: 'heuristic',
      failover: { from: 'groq', kind: 'auth' },
    });
    const cooling = await a.view();
    expect(cooling.providers.find((p) => p.name === 'openai')).toMatchObject({
      coolingDown: true,
      cooldownRemainingSeconds: 300,
      lastError: { kind: 'auth' },
    });
    clock.advance(299_000);
    await expect(a.active()).resolves.toMatchObject({ provider: 'heuristic' });
    clock.advance(1_000);
    await expect(a.active()).resolves.toMatchObject({
      provider: 'openai',
      reason: 'auto: openai is available again (health recovery)',
    });
    const audit = (await a.view()).audit.map((e) => e.type);
    expect(audit.slice(0, 4)).toEqual(['acquire', 'recovered', 'recovered', 'recovered']);
  });

  it('a healthy provider keeps the lock when a higher one recovers (no per-request switching)', async () => {
    const a = lock();
    await a.active();
    await a.failed('openai', 'auth');
    clock.advance(600_000);
    await expect(a.active()).resolves.toMatchObject({ provider: 'gemini' });
  });

  it('an admin who locks the heuristic keeps it there', async () => {
    const a = lock();
    await a.acquire('heuristic', 'providers are being rotated');
    await expect(a.active()).resolves.toMatchObject({ provider: 'heuristic' });
  });

  it('a holder that is no longer configured hands the lock on', async () => {
    await lock().acquire('openai', 'x');
    const narrowed = lock({ ...policy, configured: ['gemini'] });
    await expect(narrowed.active()).resolves.toMatchObject({
      provider: 'gemini',
      reason: 'auto: openai is no longer configured',
    });
  });

  it('a success resets the counts; nothing is written when there is nothing to reset', async () => {
    const a = lock();
    await a.active();
    await a.failed('openai', 'server');
    await a.failed('openai', 'server');
    await a.succeeded('openai');
    const before = await a.read();
    await a.succeeded('openai');
    expect((await a.read()).etag).toBe(before.etag);
    await a.failed('openai', 'server');
    await a.failed('openai', 'server');
    expect((await a.view()).active).toBe('openai');
  });

  it('the audit keeps the last 1000 events; the view shows the newest first', async () => {
    const a = lock();
    // 998 old events stored directly, then 7 more through the service.
    const old = Array.from({ length: 998 }, (_, i) => ({
      at: clock.now(),
      type: 'acquire' as const,
      provider: 'openai',
      reason: `switch ${i}`,
    }));
    await store.create('state', LOCK_PARTITION, {
      id: LOCK_DOC_ID,
      type: 'provider-lock',
      body: { state: { active: 'openai', reason: 'x', since: 0, providers: {}, audit: old }, manual: true },
    });
    for (let i = 998; i < 1005; i++) await a.acquire(i % 2 === 0 ? 'openai' : 'gemini', `switch ${i}`);
    const view = await a.view(1000);
    expect(view.auditSize).toBe(1000);
    expect(view.audit).toHaveLength(1000);
    expect(view.audit[0]).toMatchObject({ type: 'acquire', reason: 'switch 1004' });
    expect(view.audit[999]).toMatchObject({ reason: 'switch 5' });
    expect((await a.view()).audit).toHaveLength(50);
  });
});
