/**
 * Stream tickets carry the whole principal that asked for one — a key with its role and scopes,
 * an app-role token, an end user — so the stream checks the ticket's holder exactly as that caller
 * (role, scope, eventFilterFor). Forged, altered, expired or foreign tickets act as nobody.
 */
import { routeDenial } from '../../../shared/services/access-policy';
import {
  endUserPrincipal,
  keyPrincipal,
  tokenPrincipal,
  type Principal,
} from '../../../shared/services/principal';
import { StreamTicketService } from '../../../shared/services/stream-ticket-service';
import { ManualClock } from '../../helpers/test-services';

const SECRET = 'stream-ticket-test-admin-key-0123456789';

describe('StreamTicketService', () => {
  const clock = new ManualClock();
  const tickets = new StreamTicketService(SECRET, clock, 60);

  it.each<[string, Principal]>([
    ['a scoped key', keyPrincipal('k1', 'user', 'portal', ['events:read', 'users:read'])],
    ['an unscoped key', keyPrincipal('k2', 'service', 'engine')],
    ['an app-role token', tokenPrincipal('app-1', 'service')],
    ['an end user', endUserPrincipal('ann')],
  ])('%s: the ticket acts as exactly that principal', (_label, principal) => {
    expect(tickets.verify(tickets.issue(principal).ticket)).toEqual(principal);
  });

  it("a scoped key's ticket keeps its scopes: routes outside them stay refused", () => {
    const principal = keyPrincipal('k3', 'user', 'portal', ['users:read']);
    const held = tickets.verify(tickets.issue(principal).ticket) as Principal;
    expect(routeDenial(held, { roles: ['user'], scope: 'events:read' })).toMatchObject({ reason: 'scope' });
  });

  it('an end user stays an end user through a ticket (the stream narrows to their events)', () => {
    const held = tickets.verify(tickets.issue(endUserPrincipal('ann')).ticket);
    expect(held).toMatchObject({ kind: 'end-user', userId: 'ann', role: 'user' });
    expect(routeDenial(held as Principal, { roles: ['user'], scope: 'events:read' })).toMatchObject({
      reason: 'role',
    });
  });

  it('refuses expired, altered, foreign and malformed tickets', () => {
    const { ticket } = tickets.issue(endUserPrincipal('ann'));
    const [prefix, body, mac] = ticket.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body, 'base64url').toString()),
        p: endUserPrincipal('bob'),
      }),
    ).toString('base64url');
    expect(tickets.verify(`${prefix}.${forged}.${mac}`)).toBeUndefined();
    expect(
      new StreamTicketService('another-admin-key-0123456789abcdef', clock, 60).verify(ticket),
    ).toBeUndefined();
    for (const bad of ['', 'st1.', 'st1.a.b.c', 'x'.repeat(5000), `${ticket}x`]) {
      expect(tickets.verify(bad)).toBeUndefined();
    }
    clock.advance(60_000);
    expect(tickets.verify(ticket)).toBeUndefined();
  });
});
