import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { Principal } from './principal';

/**
 * Stream tickets: a browser's `EventSource` cannot send headers, and an API key must never travel
 * in a URL (access logs, history, referrers). A caller authenticated the usual way asks
 * `POST /api/events/stream/tickets` for a ticket, which opens `GET /api/events/stream?ticket=…`
 * as that caller for `ttlSeconds`. A ticket is `st1.<base64url payload>.<base64url HMAC-SHA256>`;
 * its key is derived (HKDF) from BRIDGE_ADMIN_KEY, which every instance shares, so any instance
 * accepts a ticket another one issued, and rotating the admin key voids every ticket.
 * (A plain HMAC rather than a JWT library: jose ships ES modules only, which this test runner does
 * not load; the token needs nothing a JWT adds.)
 */
export interface StreamTicket {
  ticket: string;
  expiresAt: string;
}

interface TicketPayload {
  /** The principal the ticket acts as. */
  p: Principal;
  /** Expiry, epoch ms. */
  e: number;
  /** Random, so two tickets are never equal. */
  n: string;
}

const PREFIX = 'st1.';
/** A ticket is small; anything longer is refused before any work. */
export const MAX_TICKET_LENGTH = 2048;

export class StreamTicketService {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'portal-bridge', 'event-stream-ticket', 32));
  }

  issue(principal: Principal): StreamTicket {
    const expires = this.clock.now() + this.ttlSeconds * 1000;
    const payload: TicketPayload = { p: principal, e: expires, n: randomBytes(9).toString('base64url') };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { ticket: `${PREFIX}${body}.${this.mac(body)}`, expiresAt: new Date(expires).toISOString() };
  }

  /** The principal a valid, unexpired ticket acts as; undefined for anything else. */
  verify(ticket: string): Principal | undefined {
    if (ticket.length > MAX_TICKET_LENGTH || !ticket.startsWith(PREFIX)) return undefined;
    const [body, mac, extra] = ticket.slice(PREFIX.length).split('.');
    if (body === undefined || mac === undefined || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let payload: TicketPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TicketPayload;
    } catch {
      return undefined;
    }
    if (typeof payload?.e !== 'number' || payload.e <= this.clock.now()) return undefined;
    if (typeof payload.p !== 'object' || payload.p === null || typeof payload.p.kind !== 'string')
      return undefined;
    return payload.p;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
