/**
 * The BlobStore contract against both adapters: the embedded file store, and AzureBlobStore
 * through a real BlobServiceClient speaking to Azurite (started here on a free loopback port,
 * in memory). Also checks the Azure adapter's own edges: the container is created on first write.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBlobServiceClient, openAzureBlobStore } from '../../shared/adapters/azure/blob-store';
import { openFileBlobStore } from '../../shared/adapters/embedded/file-blob-store';
import { chunked, describeBlobStoreContract, readAll } from '../contract/blob-store.contract';

const AZURITE_ACCOUNT = 'devstoreaccount1';
// Azurite's published development key (not a secret).
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

interface Azurite {
  connectionString: string;
  stop(): Promise<void>;
}

/** Starts azurite-blob on 127.0.0.1, port chosen by the OS, in memory; resolves once it listens. */
async function startAzurite(): Promise<Azurite> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-azurite-'));
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in time:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /successfully listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(workspace, { recursive: true, force: true });
    },
  };
}

describeBlobStoreContract('embedded file store', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-files-'));
  const store = openFileBlobStore(dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('Azure Blob Storage (Azurite)', () => {
  let azurite: Azurite;
  let containers = 0;

  beforeAll(async () => {
    azurite = await startAzurite();
  }, 30_000);
  afterAll(async () => {
    await azurite?.stop();
  });

  describeBlobStoreContract('AzureBlobStore over Azurite', async () => {
    const client = createBlobServiceClient({ connectionString: azurite.connectionString });
    const name = `files-${process.pid}-${++containers}`;
    return {
      store: openAzureBlobStore(client, name),
      cleanup: async () => {
        await client.getContainerClient(name).deleteIfExists();
      },
    };
  });

  it('creates its container on the first write; before that, reads and lists find nothing', async () => {
    const client = createBlobServiceClient({ connectionString: azurite.connectionString });
    const name = `lazy-${process.pid}`;
    const store = openAzureBlobStore(client, name);
    expect(await client.getContainerClient(name).exists()).toBe(false);
    expect(await store.stat('a/b')).toBeUndefined();
    expect(await store.list({ limit: 5 })).toEqual({ items: [] });
    expect(await store.delete('a/b')).toBe(false);
    await store.put('a/b', chunked(Buffer.from('x')), { contentType: 'text/plain', maxBytes: 10 });
    expect(await client.getContainerClient(name).exists()).toBe(true);
    expect((await readAll((await store.read('a/b'))!.body)).toString()).toBe('x');
    await client.getContainerClient(name).delete();
  });

  it('a streamed (multi-block) upload over the limit fails before the commit and leaves the previous blob', async () => {
    const client = createBlobServiceClient({ connectionString: azurite.connectionString });
    const name = `limit-${process.pid}`;
    const store = openAzureBlobStore(client, name);
    await store.put('big/file', chunked(Buffer.from('previous')), {
      contentType: 'text/plain',
      maxBytes: 100,
    });
    const oversized = randomBytes(6 * 1024 * 1024);
    await expect(
      store.put('big/file', chunked(oversized), {
        contentType: 'application/octet-stream',
        maxBytes: 5 * 1024 * 1024,
      }),
    ).rejects.toMatchObject({ name: 'BlobStoreError', code: 'too-large' });
    const content = await store.read('big/file');
    expect(content?.properties).toMatchObject({ size: 8, contentType: 'text/plain' });
    expect((await readAll(content!.body)).toString()).toBe('previous');
    await client.getContainerClient(name).delete();
  });

  it('keeps the content type on the blob itself (visible to any Blob Storage client)', async () => {
    const client = createBlobServiceClient({ connectionString: azurite.connectionString });
    const name = `headers-${process.pid}`;
    const store = openAzureBlobStore(client, name);
    await store.put('users/ann/photo.png', chunked(Buffer.from([137, 80, 78, 71])), {
      contentType: 'image/png',
      maxBytes: 100,
    });
    const props = await client.getContainerClient(name).getBlobClient('users/ann/photo.png').getProperties();
    expect(props.contentType).toBe('image/png');
    expect(props.contentLength).toBe(4);
    await client.getContainerClient(name).delete();
  });
});
