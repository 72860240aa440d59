import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may be delivered to. Cloud metadata, link-local and reserved addresses
 * are never allowed (they hand out credentials or are not reachable destinations); private,
 * loopback and unique-local ranges only when the operator allows them. Checked on the URL at
 * subscription time, on the URL again at every delivery (literal IPs never reach a DNS lookup),
 * and on every resolved address at connection time, so neither DNS nor an old subscription can
 * point a delivery somewhere forbidden.
 *
 * IPv6 addresses that carry an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4, Teredo) are
 * judged by every IPv4 address they carry as well as by their own range.
 */

const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidrs = (list: string[]): Cidr[] => list.map((c) => ipaddr.parseCIDR(c));

const NEVER_V4 = cidrs([
  '0.0.0.0/8', // "this network"
  '169.254.0.0/16', // link-local, incl. 169.254.169.254 (AWS/Azure/GCP/OCI metadata)
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure platform (wireserver)
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation
  '198.51.100.0/24', // documentation
  '203.0.113.0/24', // documentation
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. broadcast
]);
const PRIVATE_V4 = cidrs([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8', // loopback
  '198.18.0.0/15', // benchmarking
]);
const NEVER_V6 = cidrs([
  '::/128', // unspecified
  'fe80::/10', // link-local
  'fd00:ec2::254/128', // AWS metadata over IPv6
  'ff00::/8', // multicast
  '100::/64', // discard
  '2001:db8::/32', // documentation
]);
const PRIVATE_V6 = cidrs([
  '::1/128', // loopback
  'fc00::/7', // unique local
  'fec0::/10', // site-local (deprecated)
]);

const inAny = (address: ipaddr.IPv4 | ipaddr.IPv6, list: readonly Cidr[]) =>
  list.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));

const v4 = (bytes: readonly number[], at: number) =>
  new ipaddr.IPv4([bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0]);

/** Every IPv4 address an IPv6 address carries (RFC 4291, 6052, 6145, 3056, 4380). */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = address.toByteArray();
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const found: ipaddr.IPv4[] = [];
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) found.push(v4(b, 12)); // mapped ::ffff:a.b.c.d
  if (zeros(0, 12) && !zeros(12, 16) && !address.match(ipaddr.parse('::1') as ipaddr.IPv6, 128))
    found.push(v4(b, 12)); // compatible ::a.b.c.d (deprecated, still routed by some stacks)
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(10, 12)) found.push(v4(b, 12)); // SIIT ::ffff:0:a.b.c.d
  if (address.match(ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number])) found.push(v4(b, 12)); // NAT64
  if (address.match(ipaddr.parseCIDR('64:ff9b:1::/48') as [ipaddr.IPv6, number]))
    found.push(new ipaddr.IPv4([b[6] ?? 0, b[7] ?? 0, b[9] ?? 0, b[10] ?? 0])); // local-use NAT64 (/48 layout)
  if (b[0] === 0x20 && b[1] === 0x02) found.push(v4(b, 2)); // 6to4 2002:aabb:ccdd::
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) {
    found.push(v4(b, 4)); // Teredo server
    found.push(new ipaddr.IPv4([12, 13, 14, 15].map((i) => (b[i] ?? 0) ^ 0xff))); // Teredo client (obfuscated)
  }
  return found;
}

/** Parses an IP literal (dotted IPv4 or IPv6, brackets and zone id allowed); undefined otherwise. */
export function parseIpLiteral(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
}

type Verdict = 'never' | 'private' | undefined;

function judgeV4(address: ipaddr.IPv4): Verdict {
  if (inAny(address, NEVER_V4)) return 'never';
  if (inAny(address, PRIVATE_V4)) return 'private';
  return undefined;
}

function judge(address: ipaddr.IPv4 | ipaddr.IPv6): Verdict {
  if (address.kind() === 'ipv4') return judgeV4(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  let verdict: Verdict = inAny(v6, NEVER_V6) ? 'never' : inAny(v6, PRIVATE_V6) ? 'private' : undefined;
  for (const carried of embeddedIPv4(v6)) {
    const inner = judgeV4(carried);
    if (inner === 'never') return 'never';
    verdict ??= inner;
  }
  return verdict;
}

/** Why an IP address is refused, or undefined when delivery to it is allowed. */
export function refusedAddress(ip: string, allowPrivate: boolean): string | undefined {
  const address = parseIpLiteral(ip);
  if (!address) return `${ip} is not an IP address`;
  const verdict = judge(address);
  if (verdict === 'never') return `${ip} is a link-local, metadata or reserved address`;
  if (verdict === 'private' && !allowPrivate) {
    return `${ip} is a private or loopback address (set BRIDGE_WEBHOOK_ALLOW_PRIVATE=true to allow)`;
  }
  return undefined;
}

/** The host name as DNS sees it: lower case, without brackets or the root's trailing dots. */
export function canonicalHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.+$/, '');
}

/** Checks a subscription URL; returns the reason it is refused, or undefined. */
export function refusedWebhookUrl(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not carry credentials';
  const host = canonicalHost(url.hostname);
  if (host === '') return 'has no host';
  if (METADATA_HOSTS.has(host)) return `${host} is a cloud metadata host`;
  // The URL parser already turned every IPv4 spelling (0x7f.1, 2130706433, …) into dotted form.
  if (parseIpLiteral(host)) {
    const reason = refusedAddress(host, allowPrivate);
    return reason ? `points to ${reason}` : undefined;
  }
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return 'points to loopback (set BRIDGE_WEBHOOK_ALLOW_PRIVATE=true to allow)';
  }
  return undefined;
}
