import type * as dns from 'node:dns';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeWebhookTransport } from '../../../shared/adapters/http/node-webhook-transport';
import { refusedAddress, refusedWebhookUrl } from '../../../shared/domain/webhook-target';

describe('webhook address policy', () => {
  // Every one of these was accepted before issue 9; all carry a link-local/metadata address.
  it.each([
    'http://[::a9fe:a9fe]/', // IPv4-compatible
    'http://[64:ff9b::a9fe:a9fe]/', // NAT64
    'http://[64:ff9b:1:a9fe:a9:fe00::]/', // local-use NAT64 (/48 layout)
    'http://[2002:a9fe:a9fe::]/', // 6to4
    'http://[::ffff:169.254.169.254]/', // mapped
    'http://[::ffff:0:a9fe:a9fe]/', // SIIT
    'http://[2001:0:a9fe:a9fe::]/', // Teredo server
    'http://[2001:0:4136:e378:8000:63bf:5601:5601]/', // Teredo client 169.254.169.254 (xor 0xff)
    'http://169.254.169.254/latest/meta-data',
    'http://0xa9.0xfe.0xa9.0xfe/', // hex spelling, normalised by the URL parser
    'http://2852039166/', // one number
    'http://metadata.google.internal./', // trailing dot
    'http://METADATA.GOOGLE.INTERNAL../',
    'http://[fe80::1]/',
    'http://168.63.129.16/',
  ])('refuses %s even when private addresses are allowed', (url) => {
    expect(refusedWebhookUrl(url, true)).toBeDefined();
    expect(refusedWebhookUrl(url, false)).toBeDefined();
  });

  it.each([
    'http://[::127.0.0.1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[2002:0a00:0001::]/',
    'http://[::1]/',
    'http://[fd12::1]/',
    'http://127.1/',
    'http://10.0.0.1/',
    'http://localhost./',
    'http://api.localhost/',
  ])('refuses %s unless private addresses are allowed', (url) => {
    expect(refusedWebhookUrl(url, false)).toMatch(/private|loopback/);
    expect(refusedWebhookUrl(url, true)).toBeUndefined();
  });

  it.each(['https://hooks.example.com/x', 'http://93.184.215.14/', 'http://[2606:4700::1111]/'])(
    'accepts the public %s',
    (url) => {
      expect(refusedWebhookUrl(url, false)).toBeUndefined();
    },
  );

  it('refuses other schemes and credentials', () => {
    expect(refusedWebhookUrl('ftp://example.com/', true)).toBe('must use http or https');
    expect(refusedWebhookUrl('http://u:p@example.com/', true)).toBe('must not carry credentials');
    expect(refusedWebhookUrl('not a url', true)).toBe('is not a valid absolute URL');
  });

  it('judges resolved addresses in every spelling a resolver returns', () => {
    expect(refusedAddress('::ffff:169.254.169.254', true)).toMatch(/link-local/);
    expect(refusedAddress('fe80::1%eth0', true)).toMatch(/link-local/);
    expect(refusedAddress('::ffff:10.1.2.3', false)).toMatch(/private/);
    expect(refusedAddress('8.8.8.8', false)).toBeUndefined();
  });
});

describe('NodeWebhookTransport', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses a literal loopback URL at delivery when private addresses are no longer allowed', async () => {
    const strict = new NodeWebhookTransport(false);
    const before = hits;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::127.0.0.1]']) {
      await expect(strict.post(`http://${host}:${port}/`, {}, '{}', 1000)).rejects.toMatchObject({
        kind: 'refused-address',
      });
    }
    expect(hits).toBe(before);
    strict.close();
  });

  it('refuses a name that resolves to loopback at connection time', async () => {
    // A public-looking name that a (rebinding) resolver points at loopback: judged on its address.
    const rebinding = ((_host: string, _options: unknown, callback: (e: null, a: unknown) => void) =>
      callback(null, [{ address: '::ffff:127.0.0.1', family: 6 }])) as unknown as typeof dns.lookup;
    const strict = new NodeWebhookTransport(false, rebinding);
    const before = hits;
    await expect(strict.post(`http://hooks.example.com:${port}/`, {}, '{}', 1000)).rejects.toMatchObject({
      kind: 'refused-address',
    });
    expect(hits).toBe(before);
    strict.close();
  });

  it('delivers to an allowed literal address', async () => {
    const lenient = new NodeWebhookTransport(true);
    await expect(lenient.post(`http://127.0.0.1:${port}/`, {}, '{}', 1000)).resolves.toEqual({
      status: 200,
    });
    lenient.close();
  });
});
