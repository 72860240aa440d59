import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { refusedAddress, refusedWebhookUrl } from '../../domain/webhook-target';
import { WebhookTransportError, type WebhookTransport } from '../../ports/webhook-transport';

/**
 * Webhook delivery over node:http(s). Every delivery checks the URL itself first (Node never calls
 * `lookup` for a literal IP, and a subscription may predate the current policy), then the address
 * check runs inside the socket's DNS lookup, so the address that is checked is the address that is
 * connected to (no DNS-rebinding window).
 */
export class NodeWebhookTransport implements WebhookTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly allowPrivate: boolean,
    /** The resolver (dns.lookup); replaceable so tests can make a name resolve anywhere. */
    resolve: typeof dns.lookup = dns.lookup,
  ) {
    const lookup: LookupFunction = (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as dns.LookupAddress[];
        for (const entry of list) {
          const reason = refusedAddress(entry.address, allowPrivate);
          if (reason)
            return callback(new WebhookTransportError(`refused: ${reason}`, 'refused-address'), '', 0);
        }
        const first = list[0];
        if (!first) return callback(new Error(`no address for ${hostname}`), '', 0);
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
        callback(null, first.address, first.family);
      });
    };
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64, lookup } as http.AgentOptions);
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, lookup } as https.AgentOptions);
  }

  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<{ status: number }> {
    const refused = refusedWebhookUrl(url, this.allowPrivate);
    if (refused)
      return Promise.reject(new WebhookTransportError(`refused: the URL ${refused}`, 'refused-address'));
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise((resolve, reject) => {
      const request = client.request(
        target,
        {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: timeoutMs,
        },
        (response) => {
          // Drain the answer; only the status matters, and a slow body must not hold the socket.
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
          response.on('error', (e) => reject(new WebhookTransportError(e.message, 'network')));
        },
      );
      request.on('timeout', () =>
        request.destroy(new WebhookTransportError(`no answer within ${timeoutMs} ms`, 'timeout')),
      );
      request.on('error', (e) =>
        reject(e instanceof WebhookTransportError ? e : new WebhookTransportError(e.message, 'network')),
      );
      request.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
