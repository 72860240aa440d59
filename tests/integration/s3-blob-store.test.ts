/**
 * The BlobStore contract against S3BlobStore, through the AWS SDK speaking to a real S3-protocol
 * peer (s3rver, started here on a free loopback port), plus the S3 adapter's own edges.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, openS3BlobStore } from '../../shared/adapters/aws/s3-blob-store';
import { chunked, describeBlobStoreContract, readAll } from '../contract/blob-store.contract';
import { S3RVER_CREDENTIALS, startS3Peer, type S3Peer } from '../helpers/s3-server';
import { makeTestServices } from '../helpers/test-services';

const MIB = 1024 * 1024;

describe('Amazon S3 protocol (s3rver)', () => {
  let peer: S3Peer;
  let buckets = 0;
  const client = () =>
    createS3Client({
      region: 'us-east-1',
      endpoint: peer.endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
  /** A fresh, empty bucket: the adapter never creates one (the operator does). */
  const freshBucket = async () => {
    const name = `files-${process.pid}-${++buckets}`;
    const admin = client();
    await admin.send(new CreateBucketCommand({ Bucket: name }));
    admin.destroy();
    return name;
  };

  /** The names of the commands `s3` sends, in order. */
  const recordCommands = (s3: S3Client): string[] => {
    const sent: string[] = [];
    s3.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    return sent;
  };

  beforeAll(async () => {
    peer = await startS3Peer();
  }, 30_000);
  afterAll(async () => {
    await peer?.stop();
  });

  describeBlobStoreContract('S3BlobStore over s3rver', async () => {
    const store = openS3BlobStore(client(), await freshBucket());
    return { store, cleanup: () => store.close() };
  });

  it('a multipart upload over the limit is aborted before completing and leaves the previous object', async () => {
    const bucket = await freshBucket();
    const s3 = client();
    const store = openS3BlobStore(s3, bucket);
    await store.put('big/file', chunked(Buffer.from('previous')), {
      contentType: 'text/plain',
      maxBytes: 100,
    });
    const sent = recordCommands(s3);
    await expect(
      store.put('big/file', chunked(randomBytes(12 * MIB), 256 * 1024), {
        contentType: 'application/octet-stream',
        maxBytes: 11 * MIB,
      }),
    ).rejects.toMatchObject({ name: 'BlobStoreError', code: 'too-large' });
    const content = await store.read('big/file');
    expect(content?.properties).toMatchObject({ size: 8, contentType: 'text/plain' });
    expect((await readAll(content!.body)).toString()).toBe('previous');
    // Two full parts went up, the third passed the limit: the upload was aborted, never completed.
    expect(sent).toContain('CreateMultipartUploadCommand');
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(sent).not.toContain('CompleteMultipartUploadCommand');
    await store.close();
  });

  it('keeps the content type on the object itself (visible to any S3 client); large files go up in parts', async () => {
    const bucket = await freshBucket();
    const s3 = client();
    const store = openS3BlobStore(s3, bucket);
    await store.put('users/ann/photo.png', chunked(Buffer.from([137, 80, 78, 71])), {
      contentType: 'image/png',
      maxBytes: 100,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'users/ann/photo.png' }));
    expect(head).toMatchObject({ ContentType: 'image/png', ContentLength: 4 });
    const sent = recordCommands(s3);
    const data = randomBytes(11 * MIB);
    await store.put('users/ann/video.bin', chunked(data, MIB), {
      contentType: 'video/mp4',
      maxBytes: 20 * MIB,
    });
    expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(3); // 5 + 5 + 1 MiB
    expect(sent).toContain('CompleteMultipartUploadCommand');
    expect(sent).not.toContain('PutObjectCommand');
    const back = await store.read('users/ann/video.bin');
    expect(back?.properties).toMatchObject({ size: data.length, contentType: 'video/mp4' });
    expect((await readAll(back!.body)).equals(data)).toBe(true);
    await store.close();
  });

  it('fails loudly when the bucket does not exist', async () => {
    const store = openS3BlobStore(client(), 'no-such-bucket');
    await expect(
      store.put('a/b', chunked(Buffer.from('x')), { contentType: 'text/plain', maxBytes: 10 }),
    ).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await expect(store.list({ limit: 5 })).rejects.toMatchObject({ name: 'NoSuchBucket' });
    await store.close();
  });

  it('BRIDGE_FILES=s3 wires the services to the bucket, signing with the SDK default credential chain', async () => {
    const bucket = await freshBucket();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    const { services, cleanup } = makeTestServices({
      BRIDGE_FILES: 's3',
      BRIDGE_S3_BUCKET: bucket,
      BRIDGE_S3_REGION: 'us-east-1',
      BRIDGE_S3_ENDPOINT: peer.endpoint,
      BRIDGE_S3_FORCE_PATH_STYLE: 'true',
    });
    try {
      const { file, created } = await services.files.put('users/ann/cv.txt', {
        contentType: 'text/plain',
        body: chunked(Buffer.from('hello')),
      });
      expect(created).toBe(true);
      const s3 = client();
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'users/ann/cv.txt' }));
      s3.destroy();
      expect(head).toMatchObject({ ContentType: 'text/plain', ContentLength: 5, ETag: file.etag });
    } finally {
      await cleanup();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});
