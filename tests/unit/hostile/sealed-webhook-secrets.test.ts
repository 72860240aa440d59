import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { keyPrincipal } from '../../../shared/services/principal';
import {
  PREVIOUS_SEALING_KEY_SECRET,
  SEALING_KEY_SECRET,
  SecretSealer,
} from '../../../shared/services/secret-sealer';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';

const owner = keyPrincipal('k1', 'user', 'portal');

describe('webhook signing secrets at rest (issue 9 item 11)', () => {
  let h: EventHarness;
  beforeEach(() => (h = makeEventHarness()));
  afterEach(() => h.cleanup());

  const stored = async (id: string) =>
    (
      await h.services.store
        .collection(h.services.config.store.container)
        .read<{ secret: string }>('webhooks', id)
    )?.body.secret;

  it('stores the secret sealed (AES-256-GCM, key generated once in the secret store) and signs with the plain one', async () => {
    const sub = await h.services.webhooks.subscribe(['portal_note'], 'http://127.0.0.1:9/hook', owner);
    const sealed = await stored(sub.id);
    expect(sealed).toMatch(/^sealed:v1:[0-9a-f]{8}:/);
    expect(sealed).not.toContain(sub.secret.slice(6));
    // nothing in the data directory's databases holds the plain secret
    for (const name of readdirSync(h.dataDir).filter((n) => /\.db(-wal)?$/.test(n)))
      expect(readFileSync(path.join(h.dataDir, name)).includes(sub.secret.slice(6))).toBe(false);
    expect(await h.services.secrets.list()).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: SEALING_KEY_SECRET })]),
    );

    await h.services.publisher.publish({ type: 'portal_note', data: { n: 1 }, id: 'n1' }, owner);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the fast path publishes after the commit
    for (const event of await h.drain('webhooks')) await h.services.webhooks.fanOut(event);
    const post = h.transport.posts[0];
    expect(post).toBeDefined();
    expect(() => new Webhook(sub.secret).verify(post!.body, post!.headers)).not.toThrow();
  });
});

describe('SecretSealer', () => {
  const store = () => {
    const values = new Map<string, string>();
    return {
      values,
      get: async (name: string) => values.get(name),
      set: async (name: string, value: string) => {
        values.set(name, value);
        return { name, enabled: true, source: 'file' as const, readOnly: false };
      },
      list: async () => [],
      close: async () => undefined,
    };
  };

  it('binds a sealed value to its document and opens values of the previous key as stale', async () => {
    const secrets = store();
    let now = 0;
    const sealer = new SecretSealer(secrets, () => now);
    const sealed = await sealer.seal('whsec_abc', 'sub_1');
    expect(await sealer.open(sealed, 'sub_1')).toEqual({ plain: 'whsec_abc', stale: false });
    await expect(sealer.open(sealed, 'sub_2')).rejects.toThrow();

    // rotation: the old key becomes the previous one, a new key is current
    secrets.values.set(PREVIOUS_SEALING_KEY_SECRET, secrets.values.get(SEALING_KEY_SECRET) as string);
    secrets.values.set(SEALING_KEY_SECRET, randomBytes(32).toString('base64'));
    now += 120_000; // past the key cache
    expect(await sealer.open(sealed, 'sub_1')).toEqual({ plain: 'whsec_abc', stale: true });
    const resealed = await sealer.seal('whsec_abc', 'sub_1');
    expect(await sealer.open(resealed, 'sub_1')).toEqual({ plain: 'whsec_abc', stale: false });

    // once the previous key is gone, its values no longer open: the error says why
    secrets.values.delete(PREVIOUS_SEALING_KEY_SECRET);
    now += 120_000;
    await expect(sealer.open(sealed, 'sub_1')).rejects.toThrow(/no longer holds/);
  });

  it('treats a value stored before sealing as stale plain text', async () => {
    const sealer = new SecretSealer(store());
    expect(await sealer.open('whsec_legacy', 'sub_1')).toEqual({ plain: 'whsec_legacy', stale: true });
  });
});
