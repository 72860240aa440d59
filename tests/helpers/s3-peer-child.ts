/**
 * Child process running s3rver for the S3 tests (see s3-server.ts for why it is a child): serves
 * the directory given as argv[2] on 127.0.0.1 and a port the OS picks, prints `listening <port>`,
 * and stops on SIGTERM.
 */
import S3rver from 's3rver';

interface ListedObject {
  key: string;
}
interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}
interface ListResult {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
type ListObjects = (bucket: string, options: ListOptions) => Promise<ListResult>;

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * S3 lists keys in UTF-8 binary order; s3rver walks its directories instead, so "p/a/b" comes before
 * "p/a" and a page boundary inside such keys skips or repeats some. This puts its listing in S3's
 * order (startAfter and maxKeys applied after sorting); listings with a delimiter are left alone.
 */
function listInKeyOrder(server: S3rver): void {
  const store = (server as unknown as { store: { listObjects: ListObjects } }).store;
  const walkOrder = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    if (options.delimiter) return walkOrder(bucket, options);
    const all = await walkOrder(bucket, { ...options, startAfter: '', maxKeys: Infinity });
    const after = options.startAfter ?? '';
    const sorted = all.objects
      .filter((o) => after === '' || byteOrder(o.key, after) > 0)
      .sort((a, b) => byteOrder(a.key, b.key));
    const maxKeys = options.maxKeys ?? Infinity;
    return { objects: sorted.slice(0, maxKeys), commonPrefixes: [], isTruncated: sorted.length > maxKeys };
  };
}

async function main(): Promise<void> {
  const directory = process.argv[2];
  if (!directory) throw new Error('usage: s3-peer-child.ts <directory>');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  listInKeyOrder(server);
  const address = await server.run();
  process.stdout.write(`listening ${address.port}\n`);
  process.once('SIGTERM', () => {
    void server.close().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
