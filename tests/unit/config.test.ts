import { ConfigError, loadConfig } from '../../shared/config';

const KEY = 'k'.repeat(32);

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const c = loadConfig({ BRIDGE_ADMIN_KEY: KEY });
    expect(c.store).toEqual({ kind: 'embedded', dataDir: '.data', durability: 'normal', container: 'state' });
    expect([...c.sync.protectedFields]).toEqual(['role', 'permissions', 'status']);
    expect(c.sync.maxRetries).toBe(20);
    expect(c.http.maxBodyBytes).toBe(1024 * 1024);
    expect(c.localHost).toEqual({
      port: 7071,
      accessLog: true,
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 10000,
    });
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
    expect(c.localHost).toEqual({
      port: 8080,
      accessLog: false,
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 10000,
    });
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

  it('BRIDGE_FILES=s3 needs a bucket and a region; the endpoint and path style are optional', () => {
    expect(
      loadConfig({
        BRIDGE_ADMIN_KEY: KEY,
        BRIDGE_FILES: 's3',
        BRIDGE_S3_BUCKET: 'my-files',
        BRIDGE_S3_REGION: 'eu-west-1',
      }).files,
    ).toEqual({
      kind: 's3',
      maxBytes: 25 * 1024 * 1024,
      bucket: 'my-files',
      region: 'eu-west-1',
      forcePathStyle: false,
    });
    expect(
      loadConfig({
        BRIDGE_ADMIN_KEY: KEY,
        BRIDGE_FILES: 's3',
        BRIDGE_S3_BUCKET: 'files',
        BRIDGE_S3_REGION: 'auto',
        BRIDGE_S3_ENDPOINT: 'http://127.0.0.1:9000',
        BRIDGE_S3_FORCE_PATH_STYLE: 'true',
      }).files,
    ).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    let error: unknown;
    try {
      loadConfig({ BRIDGE_ADMIN_KEY: KEY, BRIDGE_FILES: 's3' });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems.map((p) => p.setting).sort()).toEqual([
      'BRIDGE_S3_BUCKET',
      'BRIDGE_S3_REGION',
    ]);
    for (const [setting, value] of [
      ['BRIDGE_S3_BUCKET', 'Bad_Bucket'],
      ['BRIDGE_S3_BUCKET', 'a..b'],
      ['BRIDGE_S3_REGION', 'EU WEST'],
      ['BRIDGE_S3_ENDPOINT', 'ftp://x'],
      ['BRIDGE_S3_FORCE_PATH_STYLE', 'maybe'],
    ]) {
      expect(() =>
        loadConfig({
          BRIDGE_ADMIN_KEY: KEY,
          BRIDGE_FILES: 's3',
          BRIDGE_S3_BUCKET: 'b-1',
          BRIDGE_S3_REGION: 'r',
          [setting as string]: value as string,
        }),
      ).toThrow(new RegExp(`${setting}:`));
    }
  });
});
