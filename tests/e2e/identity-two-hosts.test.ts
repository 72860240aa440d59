/**
 * Two bridge processes over one BRIDGE_DATA_DIR (two instances sharing one store): the AI rate
 * limit is one shared counter (it holds across both), read/write limits are per instance (each
 * allows its own share: N × the limit, as documented), usage adds up both instances' flushed
 * counts, and bearer tokens from an issuer on loopback work over HTTP.
 */
import { issuerSettings, startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer';
import {
  cleanupLocalHosts,
  makeTempDataDir,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { call } from './client';

const ADMIN_KEY = 'e2e-identity-admin-key-0123456789';
const ANALYSIS = { targetRole: 'Data Engineer', skills: ['SQL'], experienceYears: 2, education: 'BSc' };

describe('identity across two bridge processes sharing one store', () => {
  let issuer: OidcIssuer;
  let hosts: [LocalHostProcess, LocalHostProcess];

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const dataDir = makeTempDataDir();
    const env = {
      BRIDGE_ADMIN_KEY: ADMIN_KEY,
      BRIDGE_RATE_LIMITS_KEY: 'ai=6/h,read=3/m',
      BRIDGE_USAGE_FLUSH_SECONDS: '1',
      ...issuerSettings(issuer),
    };
    // One after the other: the first creates the store files.
    const first = await startLocalHostProcess({ dataDir, env });
    hosts = [first, await startLocalHostProcess({ dataDir, env })];
  }, 60_000);
  afterAll(async () => {
    await Promise.all(hosts?.map((h) => h.stop()) ?? []);
    await cleanupLocalHosts();
    await issuer?.close();
  });

  it('the AI limit is shared: 6 calls in all across both hosts, then 429 on either; another key is unaffected', async () => {
    const [a, b] = hosts;
    const key = (
      await call(a.baseUrl, 'POST', '/keys', { key: ADMIN_KEY, json: { role: 'user', name: 'p' } })
    ).body.key as string;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const host = i % 2 === 0 ? a : b;
      const res = await call(host.baseUrl, 'POST', '/analysis/comprehensive', { key, json: ANALYSIS });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(res.headers.get('ratelimit-remaining')).toBe('0');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    const other = (
      await call(b.baseUrl, 'POST', '/keys', { key: ADMIN_KEY, json: { role: 'user', name: 'q' } })
    ).body.key as string;
    expect(
      (await call(a.baseUrl, 'POST', '/analysis/comprehensive', { key: other, json: ANALYSIS })).status,
    ).toBe(200);
  });

  it('read limits are per instance (3 per minute on each host), and usage adds up both hosts', async () => {
    const [a, b] = hosts;
    const created = (
      await call(a.baseUrl, 'POST', '/keys', { key: ADMIN_KEY, json: { role: 'service', name: 'r' } })
    ).body as { id: string; key: string };
    const reads = async (host: LocalHostProcess) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++)
        out.push((await call(host.baseUrl, 'GET', '/users/nobody', { key: created.key })).status);
      return out;
    };
    expect(await reads(a)).toEqual([404, 404, 404, 429]);
    expect(await reads(b)).toEqual([404, 404, 404, 429]);

    // Both hosts flush every second; the usage route adds up their documents.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const usage = await call(a.baseUrl, 'GET', `/keys/${created.id}/usage`, { key: ADMIN_KEY });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({ requests: 8, groups: { 'users:read': { '4xx': 8 } } });
  });

  it('bearer tokens over HTTP: an end user reads their own profile on either host, not anyone else’s', async () => {
    const [a, b] = hosts;
    await call(a.baseUrl, 'POST', '/users/ann/sync', { key: ADMIN_KEY, json: { data: { name: 'Ann' } } });
    const token = { authorization: `Bearer ${await issuer.sign({ sub: 'ann' })}` };
    expect((await call(a.baseUrl, 'GET', '/users/ann', { headers: token })).status).toBe(200);
    expect((await call(b.baseUrl, 'GET', '/users/ann', { headers: token })).status).toBe(200);
    const foreign = await call(b.baseUrl, 'GET', '/users/bob', { headers: token });
    expect(foreign.status).toBe(403);
    const expired = await call(a.baseUrl, 'GET', '/users/ann', {
      headers: { authorization: `Bearer ${await issuer.sign({ sub: 'ann' }, { expiresIn: -60 })}` },
    });
    expect(expired.status).toBe(401);
    expect(expired.body.reason).toBe('token-expired');
    expect(expired.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });
});
