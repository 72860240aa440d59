/** Loopback hosts: the only ones an issuer or key-set URL may reach over plain http (tests, local development). */
const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_NAMES.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
}

/** https, or http on a loopback address. */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
}
