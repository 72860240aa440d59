/**
 * Upgrading a data directory written by the previous release (unversioned bridge.db and bus.db,
 * tests/fixtures/previous-release, made by tests/fixtures/make-previous-release-data-dir.ts): the
 * files are migrated in place on open, every document reads back as that release wrote it (id, pk,
 * type, body, etag, ts, seq, expiry), the change feed continues after the old sequence numbers,
 * waiting bus messages are still receivable, and the services work on the result.
 */
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBus } from '../../shared/adapters/embedded/embedded-bus';
import { openSqliteDocumentStore } from '../../shared/adapters/embedded/sqlite-document-store';
import { SchemaVersionError } from '../../shared/adapters/embedded/sqlite-migrations';
import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/container';
import { BUS_TOPOLOGY } from '../../shared/domain/bus-topology';
import type { StoredDocument } from '../../shared/ports/document-store';
import {
  FIXTURE_ADMIN_KEY,
  FIXTURE_CONTAINERS,
  FIXTURE_DIR,
  type FixtureManifest,
} from '../fixtures/make-previous-release-data-dir';

const manifest = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8')) as FixtureManifest;

const dirs: string[] = [];
/** A writable copy of the fixture. */
function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-upgrade-'));
  dirs.push(dir);
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  return dir;
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The fixture's clock, a minute on: nothing in it has expired. */
const clock = { now: () => manifest.writtenAt + 60_000 };

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

test('the fixture really is unversioned: both files at user_version 0', () => {
  expect(userVersion(join(FIXTURE_DIR, 'bridge.db'))).toBe(0);
  expect(userVersion(join(FIXTURE_DIR, 'bus.db'))).toBe(0);
  expect(Object.values(manifest.documents).flat().length).toBeGreaterThan(30);
});

test('bridge.db: every document reads back as the previous release wrote it, and the feed continues', async () => {
  const dir = copyOfFixture();
  const store = openSqliteDocumentStore(dir, { clock, purgeIntervalMs: 0 });
  try {
    expect(userVersion(join(dir, 'bridge.db'))).toBe(2);
    let highest = 0;
    for (const container of FIXTURE_CONTAINERS) {
      const expected = manifest.documents[container] ?? [];
      for (const doc of expected) {
        expect(await store.read(container, doc.pk, doc.id)).toEqual(doc);
        highest = Math.max(highest, doc.seq ?? 0);
      }
      const feed: StoredDocument[] = [];
      let continuation: string | undefined;
      for (;;) {
        const page = await store.changeFeed(container, { continuation, maxItems: 7 });
        if (page.items.length === 0) break;
        feed.push(...page.items);
        continuation = page.continuation;
      }
      expect(feed).toEqual(expected);
    }
    // A new write continues the sequence; a conditional write with an old etag still matches.
    const profile = manifest.documents.state?.find((d) => d.pk === 'user:bob' && d.id === 'profile');
    const updated = await store.upsert(
      'state',
      'user:bob',
      { id: 'profile', type: 'user', body: { moved: true } },
      { ifMatch: profile?.etag },
    );
    expect(updated.seq).toBeGreaterThan(highest);
    const tail = await store.changeFeed('state', { continuation: String(highest) });
    expect(tail.items.map((d) => `${d.pk}/${d.id}`)).toEqual(['user:bob/profile']);
  } finally {
    await store.close();
  }
  // Opening again finds the file current and changes nothing.
  const again = openSqliteDocumentStore(dir, { clock, purgeIntervalMs: 0 });
  expect(userVersion(join(dir, 'bridge.db'))).toBe(2);
  await again.close();
});

test('bus.db: the messages waiting in every entity are still receivable, in order', async () => {
  const dir = copyOfFixture();
  const bus = openEmbeddedBus(dir, BUS_TOPOLOGY, { clock });
  try {
    expect(userVersion(join(dir, 'bus.db'))).toBe(1);
    for (const [path, ids] of Object.entries(manifest.busMessages)) {
      const received = await bus.receive(path, { maxMessages: 100 });
      expect(received.map((m) => m.message.messageId)).toEqual(ids);
    }
  } finally {
    await bus.close();
  }
});

test('the services run on an upgraded data directory', async () => {
  const dir = copyOfFixture();
  const services = createServices(loadConfig({ BRIDGE_ADMIN_KEY: FIXTURE_ADMIN_KEY, BRIDGE_DATA_DIR: dir }), {
    clock,
  });
  try {
    expect(await services.apiKeys.authenticate(manifest.apiKey)).toMatchObject({ role: 'user' });
    expect(await services.sync.get('ann')).toMatchObject({ version: 4, data: { city: 'Bergen' } });
    expect(await services.sync.get('cy')).toBeUndefined(); // deleted in the fixture
    expect(await services.state.get('theme')).toMatchObject({ value: { dark: true } });
    const replay = await services.events.replay({ limit: 100 });
    const fixtureEvents = (manifest.documents.state ?? []).filter((d) => d.type === 'event');
    expect(replay.events.map((e) => e.id)).toEqual(
      fixtureEvents.map((d) => (d.body as { event: { id: string } }).event.id),
    );
    const next = await services.sync.sync('ann', { data: { city: 'Tromsø' } }, 'admin');
    expect(next.version).toBe(5);
  } finally {
    await services.close();
  }
});

test('a file written by a newer release is refused, naming both versions, and left untouched', () => {
  const dir = copyOfFixture();
  const file = join(dir, 'bridge.db');
  const raw = new Database(file);
  raw.pragma('user_version = 99');
  raw.close();
  expect(() => openSqliteDocumentStore(dir, { clock, purgeIntervalMs: 0 })).toThrow(SchemaVersionError);
  expect(() => openSqliteDocumentStore(dir, { clock, purgeIntervalMs: 0 })).toThrow(
    /schema version 99.*up to version 2/,
  );
  expect(userVersion(file)).toBe(99);
});
