import { invokeHandler } from '../../helpers/invoke-handler';
import { type HttpHandler } from '@azure/functions';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretsList } from '../../../functions/secrets-list';
import { secretsPut } from '../../../functions/secrets-put';
import {
  SettingsSecretStore,
  secretSettingName,
} from '../../../shared/adapters/embedded/settings-secret-store';
import { ConfigError, loadConfig } from '../../../shared/config';
import { setServices, type Services } from '../../../shared/container';
import { ManualClock, TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

async function call(
  handler: HttpHandler,
  init: { key?: string; name?: string; body?: unknown; method?: string },
) {
  const { key = TEST_ADMIN_KEY, name, body, method = 'GET' } = init;
  const res = await invokeHandler(handler, {
    method,
    key,
    url: 'http://localhost/api/secrets',
    params: name !== undefined ? { name } : {},
    body,
  });
  return {
    status: res.status,
    raw: res.raw,
    json: res.raw ? (JSON.parse(res.raw) as Record<string, unknown>) : undefined,
  };
}

describe('secrets routes', () => {
  let services: Services;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let userKey: string;
  let serviceKey: string;

  beforeEach(async () => {
    ({ services, dataDir, cleanup } = makeTestServices({ BRIDGE_SECRET_OPENAI_API_KEY: 'sk-from-settings' }));
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
    serviceKey = (await services.apiKeys.issue('service', 'backend')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  it('PUT writes a secret (204) that services can read, but no route ever returns it', async () => {
    expect(
      (await call(secretsPut, { method: 'PUT', name: 'webhook-signing', body: { value: 's3cr3t-value' } }))
        .status,
    ).toBe(204);
    expect(await services.secrets.get('webhook-signing')).toBe('s3cr3t-value');
    const list = await call(secretsList, {});
    expect(list.status).toBe(200);
    expect(list.raw).not.toContain('s3cr3t-value');
    expect(list.raw).not.toContain('sk-from-settings');
    expect(list.json?.secrets).toEqual([
      { name: 'openai-api-key', enabled: true, source: 'setting', readOnly: true },
      {
        name: 'webhook-signing',
        enabled: true,
        source: 'file',
        readOnly: false,
        createdOn: expect.any(String),
        updatedOn: expect.any(String),
      },
    ]);
  });

  it('writes persist in BRIDGE_DATA_DIR/secrets.json with mode 0600', async () => {
    await call(secretsPut, { method: 'PUT', name: 'a-key', body: { value: 'v1' } });
    const file = path.join(dataDir, 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const reopened = new SettingsSecretStore({ dataDir, settingValues: new Map() });
    expect(await reopened.get('A-KEY')).toBe('v1');
  });

  it('a settings-backed secret is read-only: 409', async () => {
    const res = await call(secretsPut, { method: 'PUT', name: 'OPENAI-API-KEY', body: { value: 'other' } });
    expect(res.status).toBe(409);
    expect(res.raw).toContain('BRIDGE_SECRET_OPENAI_API_KEY');
    expect(await services.secrets.get('openai-api-key')).toBe('sk-from-settings');
  });

  it('bad names and bodies are 400; other roles are 403; no key is 401', async () => {
    for (const name of ['bad_name', 'a.b', 'x'.repeat(128), '']) {
      expect((await call(secretsPut, { method: 'PUT', name, body: { value: 'v' } })).status).toBe(400);
    }
    expect((await call(secretsPut, { method: 'PUT', name: 'ok', body: { value: '' } })).status).toBe(400);
    expect((await call(secretsPut, { method: 'PUT', name: 'ok', body: { value: 1 } })).status).toBe(400);
    expect(
      (await call(secretsPut, { method: 'PUT', name: 'ok', body: { value: 'v', extra: 1 } })).status,
    ).toBe(400);
    expect((await call(secretsPut, { method: 'PUT', name: 'ok', body: '{' })).status).toBe(400);
    for (const key of [userKey, serviceKey]) {
      expect((await call(secretsList, { key })).status).toBe(403);
      expect((await call(secretsPut, { method: 'PUT', key, name: 'ok', body: { value: 'v' } })).status).toBe(
        403,
      );
    }
    expect((await call(secretsList, { key: '' })).status).toBe(401);
    expect((await services.secrets.list()).map((s) => s.name)).toEqual(['openai-api-key']);
  });
});

describe('SettingsSecretStore', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-secrets-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('names are case-insensitive; updates keep createdOn and move updatedOn', async () => {
    const clock = new ManualClock();
    const store = new SettingsSecretStore({ dataDir, settingValues: new Map(), clock });
    const first = await store.set('Api-Key', 'one');
    clock.advance(60_000);
    const second = await store.set('api-key', 'two');
    expect(second.createdOn).toBe(first.createdOn);
    expect(second.updatedOn).not.toBe(first.updatedOn);
    expect(await store.get('API-KEY')).toBe('two');
    expect(await store.get('missing')).toBeUndefined();
    expect((await store.list()).map((s) => s.name)).toEqual(['api-key']);
  });

  it('concurrent writes all land', async () => {
    const store = new SettingsSecretStore({ dataDir, settingValues: new Map() });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i}`, `v${i}`)));
    const reopened = new SettingsSecretStore({ dataDir, settingValues: new Map() });
    expect(await reopened.list()).toHaveLength(20);
    expect(await reopened.get('k7')).toBe('v7');
    expect(fs.readdirSync(dataDir)).toEqual(['secrets.json']);
  });

  it('maps names to settings', () => {
    expect(secretSettingName('openai-api-key')).toBe('BRIDGE_SECRET_OPENAI_API_KEY');
  });
});

describe('secrets settings in config.ts', () => {
  const base = { BRIDGE_ADMIN_KEY: 'k'.repeat(32) };

  it('collects BRIDGE_SECRET_<NAME> settings (not BRIDGE_SECRET_CACHE_SECONDS) for the embedded store', () => {
    const config = loadConfig({ ...base, BRIDGE_SECRET_GROQ_KEY: 'g', BRIDGE_SECRET_CACHE_SECONDS: '60' });
    expect(config.secrets.kind).toBe('embedded');
    if (config.secrets.kind === 'embedded') {
      expect([...config.secrets.settingValues]).toEqual([['groq-key', 'g']]);
    }
  });

  it('keyvault needs KEY_VAULT_URI (https); a bad secret setting name fails naming it', () => {
    expect(() => loadConfig({ ...base, BRIDGE_SECRETS: 'keyvault' })).toThrow(/KEY_VAULT_URI: is required/);
    expect(() => loadConfig({ ...base, BRIDGE_SECRETS: 'keyvault', KEY_VAULT_URI: 'http://x' })).toThrow(
      ConfigError,
    );
    const config = loadConfig({
      ...base,
      BRIDGE_SECRETS: 'keyvault',
      KEY_VAULT_URI: 'https://pb.vault.azure.net',
      BRIDGE_SECRET_CACHE_SECONDS: '0',
    });
    expect(config.secrets).toEqual({
      kind: 'keyvault',
      vaultUri: 'https://pb.vault.azure.net',
      cacheSeconds: 0,
    });
    expect(() => loadConfig({ ...base, 'BRIDGE_SECRET_BAD-NAME': 'x' })).toThrow(/BRIDGE_SECRET_BAD-NAME/);
  });

  it('files: azure needs an endpoint or an emulator connection string; the container name is checked', () => {
    expect(() => loadConfig({ ...base, BRIDGE_FILES: 'azure' })).toThrow(
      /AZURE_STORAGE_BLOB_ENDPOINT: is required/,
    );
    expect(
      loadConfig({
        ...base,
        BRIDGE_FILES: 'azure',
        AZURE_STORAGE_BLOB_ENDPOINT: 'https://a.blob.core.windows.net',
      }).files,
    ).toEqual({
      kind: 'azure',
      maxBytes: 25 * 1024 * 1024,
      container: 'files',
      endpoint: 'https://a.blob.core.windows.net',
      connectionString: undefined,
    });
    expect(() => loadConfig({ ...base, BRIDGE_FILES_CONTAINER: 'Bad_Name' })).toThrow(
      /BRIDGE_FILES_CONTAINER/,
    );
    expect(() => loadConfig({ ...base, BRIDGE_FILES_MAX_BYTES: '0' })).toThrow(/BRIDGE_FILES_MAX_BYTES/);
    expect(loadConfig(base).files).toEqual({ kind: 'embedded', maxBytes: 25 * 1024 * 1024 });
  });
});
