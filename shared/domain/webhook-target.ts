import { BlockList, isIP } from 'node:net';

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

const never = new BlockList();
never.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, incl. 169.254.169.254 (AWS/Azure/GCP metadata)
never.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
never.addAddress('168.63.129.16', 'ipv4'); // Azure platform (wireserver)
never.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"
never.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
never.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, incl. broadcast
never.addSubnet('fe80::', 10, 'ipv6'); // link-local
never.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
never.addSubnet('ff00::', 8, 'ipv6'); // multicast
never.addAddress('::', 'ipv6');

const privateRanges = new BlockList();
privateRanges.addSubnet('10.0.0.0', 8, 'ipv4');
privateRanges.addSubnet('172.16.0.0', 12, 'ipv4');
privateRanges.addSubnet('192.168.0.0', 16, 'ipv4');
privateRanges.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
privateRanges.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
privateRanges.addSubnet('fc00::', 7, 'ipv6'); // unique local
privateRanges.addAddress('::1', 'ipv6');

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1] as string, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Why an IP address is refused, or undefined when delivery to it is allowed. */
export function refusedAddress(ip: string, allowPrivate: boolean): string | undefined {
  const { address, family } = normalise(ip);
  if (never.check(address, family)) return `${ip} is a link-local, metadata or reserved address`;
  if (!allowPrivate && privateRanges.check(address, family)) {
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
  if (isIP(host)) {
    const reason = refusedAddress(host, allowPrivate);
    return reason ? `points to ${reason}` : undefined;
  }
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return 'points to loopback (set BRIDGE_WEBHOOK_ALLOW_PRIVATE=true to allow)';
  }
  return undefined;
}
