import { refusedAddress, refusedWebhookUrl } from '../../../shared/domain/webhook-target';

describe('webhook address policy', () => {
  it.each([
    '169.254.169.254',
    '168.63.129.16',
    '100.100.100.200',
    '0.1.2.3',
    '224.0.0.1',
    '255.255.255.255',
    'fe80::1',
    'fd00:ec2::254',
    'ff02::1',
    '::',
    '::ffff:169.254.169.254',
  ])('%s is never allowed, even with private addresses allowed', (ip) => {
    expect(refusedAddress(ip, true)).toMatch(/link-local, metadata or reserved/);
  });

  it.each([
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '127.0.0.1',
    'fd12::1',
    '::1',
    '::ffff:10.0.0.1',
  ])('%s is allowed only when private addresses are', (ip) => {
    expect(refusedAddress(ip, false)).toMatch(/private or loopback/);
    expect(refusedAddress(ip, true)).toBeUndefined();
  });

  it.each(['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '172.32.0.1', '::ffff:8.8.8.8'])(
    '%s (public) is allowed',
    (ip) => {
      expect(refusedAddress(ip, false)).toBeUndefined();
    },
  );

  it('refuses what is not an IP address rather than guessing', () => {
    expect(refusedAddress('example.com', true)).toMatch(/not an IP address/);
    expect(refusedAddress('127.1', true)).toMatch(/not an IP address/);
  });

  it('checks subscription URLs: scheme, credentials, metadata hosts, IP literals and localhost', () => {
    expect(refusedWebhookUrl('not a url', true)).toMatch(/not a valid absolute URL/);
    expect(refusedWebhookUrl('ftp://example.com/', true)).toMatch(/http or https/);
    expect(refusedWebhookUrl('https://u:p@example.com/', true)).toMatch(/credentials/);
    expect(refusedWebhookUrl('http://metadata.google.internal/', true)).toMatch(/metadata host/);
    expect(refusedWebhookUrl('http://169.254.169.254/latest', true)).toMatch(/link-local/);
    // The URL parser turns legacy IPv4 forms into dotted quads before the check sees them.
    expect(refusedWebhookUrl('http://0x7f.1/', false)).toMatch(/private or loopback/);
    expect(refusedWebhookUrl('http://[::1]:8080/', false)).toMatch(/private or loopback/);
    expect(refusedWebhookUrl('http://localhost:8080/', false)).toMatch(/loopback/);
    expect(refusedWebhookUrl('http://localhost:8080/', true)).toBeUndefined();
    expect(refusedWebhookUrl('https://portal.example.com/hooks', false)).toBeUndefined();
  });
});
