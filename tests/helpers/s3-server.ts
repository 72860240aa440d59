/**
 * An S3-protocol peer for the tests: s3rver (npm) in a child process on 127.0.0.1 and a port the OS
 * picks, storing under a temp dir that stop() removes. A child, because s3rver makes its listing
 * continuation tokens with DES, which Node's OpenSSL 3 offers only with --openssl-legacy-provider.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** s3rver accepts requests signed with these (its documented defaults; not a secret). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Peer {
  /** http://127.0.0.1:<port>, for path-style addressing. */
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3Peer(): Promise<S3Peer> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-s3rver-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--require',
      path.join(__dirname, 'register-ts.js'),
      path.join(__dirname, 's3-peer-child.ts'),
      directory,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in time:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}:\n${output}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
