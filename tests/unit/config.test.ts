import { ConfigError, loadConfig } from '../../shared/config';

const KEY = 'k'.repeat(32);

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const c = loadConfig({ BRIDGE_ADMIN_KEY: KEY });
    expect(c.store).toEqual({ kind: 'embedded', dataDir: '.data', durability: 'normal', container: 'state' });
    expect([...c.sync.protectedFields]).toEqual(['role', 'permissions', 'status']);
    expect(c.sync.maxRetries).toBe(20);
    expect(c.http.maxBodyBytes).toBe(1024 * 1024);
    expect(c.localHost).toEqual({ port: 7071, accessLog: true });
  });

  it('reads every setting', () => {
    const c = loadConfig({
      BRIDGE_ADMIN_KEY: KEY,
      BRIDGE_DATA_DIR: '/var/pb',
      BRIDGE_DURABILITY: 'full',
      BRIDGE_PROTECTED_FIELDS: 'role, tier ,',
      BRIDGE_SYNC_MAX_RETRIES: '3',
      BRIDGE_MAX_BODY_BYTES: '2048',
      BRIDGE_AUTH_CACHE_SECONDS: '0',
      PORT: '8080',
      BRIDGE_ACCESS_LOG: 'off',
    });
    expect(c.store).toEqual({ kind: 'embedded', dataDir: '/var/pb', durability: 'full', container: 'state' });
    expect([...c.sync.protectedFields]).toEqual(['role', 'tier']);
    expect(c.sync.maxRetries).toBe(3);
    expect(c.http.maxBodyBytes).toBe(2048);
    expect(c.auth.cacheSeconds).toBe(0);
    expect(c.localHost).toEqual({ port: 8080, accessLog: false });
  });

  it('fails fast naming each missing or invalid setting', () => {
    let error: unknown;
    try {
      loadConfig({ BRIDGE_SYNC_MAX_RETRIES: 'many', BRIDGE_DURABILITY: 'fast', PORT: '70000' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((p) => p.setting).sort();
    expect(names).toEqual(['BRIDGE_ADMIN_KEY', 'BRIDGE_DURABILITY', 'BRIDGE_SYNC_MAX_RETRIES', 'PORT']);
    expect((error as ConfigError).message).toContain('BRIDGE_ADMIN_KEY: is required');
  });

  it('refuses a short admin key and treats blank values as unset', () => {
    expect(() => loadConfig({ BRIDGE_ADMIN_KEY: 'short' })).toThrow(/BRIDGE_ADMIN_KEY: must be at least 24/);
    expect(loadConfig({ BRIDGE_ADMIN_KEY: KEY, BRIDGE_DATA_DIR: '  ' }).store.dataDir).toBe('.data');
  });
});
