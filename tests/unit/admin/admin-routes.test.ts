/**
 * The admin routes as the Functions host will see them, the local route table's constraint check,
 * and the Azure blob adapter's user-delegation download links (signed without network access).
 */
import { app } from '@azure/functions';
import { ContainerClient, type UserDelegationKey } from '@azure/storage-blob';
import { AzureBlobStore } from '../../../shared/adapters/azure/blob-store';
import { ADMIN_AREA } from '../../../shared/http/params';
import { RouteTable } from '../../../local/route-table';
import type { Registration } from '../../../local/function-registry';
import { loadAllRoutes } from '../../helpers/all-routes';

jest.spyOn(app, 'http').mockImplementation(() => undefined);
const routes = loadAllRoutes();

describe('admin routes', () => {
  it('no route template starts with "admin" or "runtime" (the Functions host refuses those: ValidateHttpFunction)', () => {
    for (const r of routes) {
      const template = r.route.replace(/^\/+|\/+$/g, '').toLowerCase();
      expect([r.name, template.startsWith('admin') || template.startsWith('runtime')]).toEqual([
        r.name,
        false,
      ]);
    }
  });

  it('every admin route is under /api/admin, admin only, with the area parameter checked', () => {
    const admin = routes.filter((r) => r.name.startsWith('admin-'));
    expect(admin.map((r) => r.name).sort()).toEqual([
      'admin-ai-content-generate',
      'admin-ai-enrich',
      'admin-ai-models-status-get',
      'admin-analytics-custom-run',
      'admin-analytics-dashboard-get',
      'admin-analytics-reports-get',
      'admin-batches-cancel',
      'admin-batches-create',
      'admin-batches-get',
      'admin-exports-create',
      'admin-exports-get',
      'admin-imports-create',
      'admin-imports-get',
      'admin-users-create',
      'admin-users-list',
    ]);
    for (const r of admin) {
      expect([r.name, r.route.startsWith(`${ADMIN_AREA}/`)]).toEqual([r.name, true]);
      expect([r.name, r.access]).toEqual([r.name, { roles: ['admin'], scope: 'admin' }]);
      const area = r.params?.shape.area as { safeParse: (v: unknown) => { success: boolean } } | undefined;
      expect([r.name, area?.safeParse('admin').success, area?.safeParse('users').success]).toEqual([
        r.name,
        true,
        false,
      ]);
    }
  });

  it('the local route table serves /api/admin/... and nothing else through the constrained area', () => {
    const registration = (name: string, route: string, methods: string[]): Registration =>
      ({
        name,
        trigger: 'http',
        options: { route, methods, handler: () => undefined },
      }) as unknown as Registration;
    const table = new RouteTable([
      registration('admin-users-list', `${ADMIN_AREA}/users`, ['GET']),
      registration('users-get', 'users/{userId}', ['GET']),
    ]);
    const hit = table.match('GET', '/admin/users');
    expect(hit.kind === 'match' && hit.route.name).toBe('admin-users-list');
    const upper = table.match('GET', '/ADMIN/users');
    expect(upper.kind === 'match' && upper.route.name).toBe('admin-users-list'); // ASP.NET regex constraints ignore case
    const users = table.match('GET', '/users/users');
    expect(users.kind === 'match' && users.route.name).toBe('users-get');
    expect(table.match('GET', '/other/users').kind).toBe('not-found');
    expect(table.match('GET', '/administrator/users').kind).toBe('not-found');
  });
});

describe('AzureBlobStore download links', () => {
  const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const container = new ContainerClient('https://acct.blob.core.windows.net/files', credential);
  const now = Date.parse('2026-11-20T10:00:00Z');

  function keySource() {
    const calls: [Date, Date][] = [];
    return {
      calls,
      async getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey> {
        calls.push([startsOn, expiresOn]);
        return {
          signedObjectId: '11111111-1111-1111-1111-111111111111',
          signedTenantId: '22222222-2222-2222-2222-222222222222',
          signedStartsOn: startsOn,
          signedExpiresOn: expiresOn,
          signedService: 'b',
          signedVersion: '2025-01-05',
          value: Buffer.from('k'.repeat(32)).toString('base64'),
        };
      },
    };
  }

  it('signs a read-only, short-lived SAS of one blob with a user delegation key, reusing the key', async () => {
    const keys = keySource();
    const store = new AzureBlobStore(container, keys, () => now);
    const link = await store.downloadUrl('exports/exp_1/users.ndjson.gz', { expiresInSeconds: 900 });
    if (link.kind !== 'url') throw new Error('expected a url');
    expect(link.signedWith).toBe('user-delegation');
    expect(link.expiresAt).toBe('2026-11-20T10:15:00.000Z');
    const url = new URL(link.url);
    expect(url.origin + url.pathname).toBe(
      'https://acct.blob.core.windows.net/files/exports/exp_1/users.ndjson.gz',
    );
    const q = url.searchParams;
    expect(q.get('sp')).toBe('r');
    expect(q.get('sr')).toBe('b');
    expect(q.get('spr')).toBe('https');
    expect(q.get('se')).toBe('2026-11-20T10:15:00Z');
    expect(q.get('skoid')).toBe('11111111-1111-1111-1111-111111111111');
    expect(q.get('sktid')).toBe('22222222-2222-2222-2222-222222222222');
    expect(q.get('sig')).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
    await store.downloadUrl('exports/exp_2/users.ndjson.gz', { expiresInSeconds: 900 });
    expect(keys.calls).toHaveLength(1); // the key is reused while it outlives the link
    await store.downloadUrl('exports/exp_3/users.ndjson.gz', { expiresInSeconds: 3 * 86_400 });
    expect(keys.calls).toHaveLength(2); // a link longer than the cached key gets a new one
  });

  it('refuses unsafe paths and lifetimes outside 1 s – 7 days', async () => {
    const store = new AzureBlobStore(container, keySource(), () => now);
    await expect(store.downloadUrl('../x', { expiresInSeconds: 60 })).rejects.toThrow();
    await expect(store.downloadUrl('a/b', { expiresInSeconds: 0 })).rejects.toThrow();
    await expect(store.downloadUrl('a/b', { expiresInSeconds: 8 * 86_400 })).rejects.toThrow();
  });
});
