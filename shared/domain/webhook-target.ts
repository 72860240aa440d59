import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may be delivered to. Cloud metadata and link-local addresses are never
 * allowed (they hand out credentials); private, loopback and unique-local ranges only when the
 * operator allows them. Checked on the URL at subscription time and on every resolved address at
 * connection time, so a DNS name cannot later point somewhere forbidden.
 */

const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Never a webhook target, whatever the operator allows (CIDR; a bare address is one host). */
const NEVER = [
  '169.254.0.0/16', // link-local, incl. 169.254.169.254 (AWS/Azure/GCP metadata)
  '100.100.100.200/32', // Alibaba Cloud metadata
  '168.63.129.16/32', // Azure platform (wireserver)
  '0.0.0.0/8', // "this network"
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, incl. broadcast
  'fe80::/10', // link-local
  'fd00:ec2::254/128', // AWS metadata over IPv6
  'ff00::/8', // multicast
  '::/128',
].map((cidr) => ipaddr.parseCIDR(cidr));

/** Private, loopback and unique-local ranges: allowed only with BRIDGE_WEBHOOK_ALLOW_PRIVATE. */
const PRIVATE = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8', // loopback
  'fc00::/7', // unique local
  '::1/128',
].map((cidr) => ipaddr.parseCIDR(cidr));

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** An IP literal in its usual text form (dotted quad or IPv6), not the legacy "127.1" or hex forms. */
function isIpLiteral(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function parseAddress(text: string): Address | undefined {
  if (!isIpLiteral(text)) return undefined;
  const address = ipaddr.parse(text);
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function inAny(address: Address, ranges: readonly [Address, number][]): boolean {
  return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/** Why an IP address is refused, or undefined when delivery to it is allowed. */
export function refusedAddress(ip: string, allowPrivate: boolean): string | undefined {
  const address = parseAddress(ip);
  if (!address) return `${ip} is not an IP address`;
  if (inAny(address, NEVER)) return `${ip} is a link-local, metadata or reserved address`;
  if (!allowPrivate && inAny(address, PRIVATE)) {
    return `${ip} is a private or loopback address (set BRIDGE_WEBHOOK_ALLOW_PRIVATE=true to allow)`;
  }
  return undefined;
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
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_HOSTS.has(host)) return `${host} is a cloud metadata host`;
  if (isIpLiteral(host)) {
    const reason = refusedAddress(host, allowPrivate);
    return reason ? `points to ${reason}` : undefined;
  }
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return 'points to loopback (set BRIDGE_WEBHOOK_ALLOW_PRIVATE=true to allow)';
  }
  return undefined;
}
