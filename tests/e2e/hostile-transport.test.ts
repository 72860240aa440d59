/**
 * e2e (issue 9 items 5, 10, 11): the local host's front end against slow, partial and malformed
 * requests, and its start-up against damaged data files.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  cleanupLocalHosts,
  makeTempDataDir,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';

const HEADERS_TIMEOUT_MS = 1_000;
const BODY_TIMEOUT_MS = 1_500;
let host: LocalHostProcess;

beforeAll(async () => {
  host = await startLocalHostProcess({
    env: {
      BRIDGE_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      BRIDGE_HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
    },
  });
});
afterAll(cleanupLocalHosts);

/** Opens a socket, writes `head`, then `trickle` one byte every `everyMs`; resolves with what came back and when. */
function exchange(
  head: string,
  options: { trickle?: string; everyMs?: number; waitMs?: number } = {},
): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port: host.port });
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const done = () => {
      clearInterval(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    };
    socket.once('close', done);
    socket.write(head);
    const trickle = options.trickle ?? '';
    let i = 0;
    if (trickle.length > 0)
      timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++] as string);
      }, options.everyMs ?? 200);
    setTimeout(() => socket.destroy(), options.waitMs ?? 15_000).unref();
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

describe('slow, partial and malformed requests', () => {
  it.each([
    ['a space', 'bad host'],
    ['a bad port', 'example.com:99999999'],
    ['an unclosed IPv6 literal', '[::1'],
    ['a path', 'example.com/x'],
    ['user info', 'user@example.com'],
  ])('answers 400 for a Host header with %s', async (_name, value) => {
    const { text } = await exchange(
      `GET /api/health HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(text)).toBe(400);
    expect(text).not.toContain('Internal');
  });

  it('answers 413 from the declared content-length, before the body arrives', async () => {
    const started = Date.now();
    const { text } = await exchange(
      `POST /api/users/ann/sync HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${host.adminKey}\r\n` +
        `content-type: application/json\r\ncontent-length: 999999999999\r\n\r\n{`,
      { waitMs: 3_000 },
    );
    expect(statusOf(text)).toBe(413);
    expect(text).toContain('payload-too-large');
    expect(Date.now() - started).toBeLessThan(2_900);
  });

  it('answers 408 and closes when the body trickles in one byte at a time', async () => {
    const body = JSON.stringify({ data: { name: 'trickle' } });
    const { text, closedAfterMs } = await exchange(
      `POST /api/users/trickle/sync HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${host.adminKey}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
      { trickle: body, everyMs: 300 },
    );
    expect(statusOf(text)).toBe(408);
    expect(closedAfterMs).toBeLessThan(BODY_TIMEOUT_MS + 5_000);
    const res = await fetch(`${host.baseUrl}/users/trickle`, { headers: { 'x-api-key': host.adminKey } });
    expect(res.status).toBe(404); // nothing was written
  });

  it('closes a connection whose headers trickle in', async () => {
    const { closedAfterMs } = await exchange('GET /api/health HTTP/1.1\r\n', {
      trickle: 'X-Slow: ' + 'a'.repeat(200),
      everyMs: 100,
    });
    // Node checks the header deadline once a second: headers timeout + at most that interval + slack.
    expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);
  });

  it('answers 415 to a JSON route given a body without a content type, and changes nothing', async () => {
    const res = await fetch(`${host.baseUrl}/users/untyped/sync`, {
      method: 'POST',
      headers: { 'x-api-key': host.adminKey },
      body: new Uint8Array(Buffer.from('{"data":{"a":1}}')),
    });
    expect(res.status).toBe(415);
    const after = await fetch(`${host.baseUrl}/users/untyped`, { headers: { 'x-api-key': host.adminKey } });
    expect(after.status).toBe(404);
  });
});

describe('local files and start-up', () => {
  it('keeps the data directory 0700 and every data file 0600', async () => {
    // A sync and a secret make the store, the bus and secrets.json write.
    await fetch(`${host.baseUrl}/users/modes/sync`, {
      method: 'POST',
      headers: { 'x-api-key': host.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { a: 1 } }),
    });
    await fetch(`${host.baseUrl}/secrets/probe-secret`, {
      method: 'PUT',
      headers: { 'x-api-key': host.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'v' }),
    });
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(host.dataDir)).toBe(0o700);
    const files = fs
      .readdirSync(host.dataDir)
      .filter((name) => /^(bridge|bus)\.db(-wal|-shm)?$|^admin-key$|^secrets\.json$/.test(name));
    expect(files).toEqual(
      expect.arrayContaining(['bridge.db', 'bus.db', 'admin-key', 'secrets.json', 'bridge.db-wal']),
    );
    for (const name of files) expect([name, mode(path.join(host.dataDir, name))]).toEqual([name, 0o600]);
  });

  it('prints a generated admin key once, and later only where it is', async () => {
    const dataDir = makeTempDataDir();
    const bannerDone = async (h: LocalHostProcess) => {
      for (let i = 0; i < 100 && !h.output().includes('  try:'); i++)
        await new Promise((r) => setTimeout(r, 50));
    };
    const first = await startLocalHostProcess({ dataDir });
    await bannerDone(first);
    const key = fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
    expect(first.output()).toContain(key);
    await first.stop();
    const second = await startLocalHostProcess({ dataDir });
    await bannerDone(second);
    expect(second.output()).not.toContain(key);
    expect(second.output()).toContain(`admin key: in ${path.join(dataDir, 'admin-key')}`);
    await second.stop();
  });

  /** Starts the host on a prepared data directory and expects it to refuse, naming `file`. */
  function expectRefusal(prepare: (dataDir: string) => void, file: string, fix: RegExp) {
    const dataDir = makeTempDataDir();
    prepare(dataDir);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BRIDGE_')) env[k] = v;
    const result = spawnSync(process.execPath, [path.resolve(__dirname, '../../dist/local/main.js')], {
      env: { ...env, PORT: '0', BRIDGE_DATA_DIR: dataDir, BRIDGE_ACCESS_LOG: 'false' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status).toBe(1);
    expect(output).toContain(`Portal Bridge cannot start: ${path.join(dataDir, file)}`);
    expect(output).toMatch(fix);
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  }

  it('refuses an admin-key that is a directory', () =>
    expectRefusal((d) => fs.mkdirSync(path.join(d, 'admin-key')), 'admin-key', /Fix: Delete/));
  it('refuses an empty admin-key', () =>
    expectRefusal((d) => fs.writeFileSync(path.join(d, 'admin-key'), '\n'), 'admin-key', /is empty/));
  it('refuses a corrupt bridge.db', () =>
    expectRefusal(
      (d) => fs.writeFileSync(path.join(d, 'bridge.db'), Buffer.alloc(8192, 7)),
      'bridge.db',
      /not a valid SQLite database[\s\S]*Fix: Move bridge.db/,
    ));
  it('refuses a malformed secrets.json', () =>
    expectRefusal(
      (d) => fs.writeFileSync(path.join(d, 'secrets.json'), '{"secrets": {"a": '),
      'secrets.json',
      /is not valid JSON[\s\S]*Fix:/,
    ));
});
