/**
 * Every HTTP route goes through route(name, definition): it is registered with app.http exactly
 * as declared and recorded, complete, in the route registry (what OpenAPI and the authorization
 * matrix are generated from).
 */
import { app, type HttpFunctionOptions } from '@azure/functions';
import { ROUTE_ROLES } from '../../../shared/services/principal';
import { SCOPES } from '../../../shared/services/scopes';
import { functionFileNames, loadAllRoutes } from '../../helpers/all-routes';

const NON_HTTP = [
  'commands-process',
  'events-changefeed',
  'events-sweep',
  'realtime-publish',
  'lockstep-monitor',
  'providers-check',
  'webhooks-deliver',
  'webhooks-retry',
];

const httpCalls: [string, HttpFunctionOptions][] = [];
jest.spyOn(app, 'http').mockImplementation((name, options) => {
  httpCalls.push([name, options]);
});
const routes = loadAllRoutes();

const templateParams = (template: string) =>
  [...template.matchAll(/\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}/g)].map((m) => m[1]).sort();

describe('route registry', () => {
  it('holds one route per HTTP function file, named after the file', () => {
    const names = routes.map((r) => r.name).sort();
    expect(names).toEqual(functionFileNames().filter((n) => !NON_HTTP.includes(n)));
  });

  it('each route was registered with app.http as declared: anonymous at the host, its methods and template', () => {
    expect(httpCalls.map(([name]) => name).sort()).toEqual(routes.map((r) => r.name).sort());
    for (const r of routes) {
      const options = httpCalls.find(([name]) => name === r.name)?.[1];
      expect([r.name, options?.authLevel, options?.route, options?.methods]).toEqual([
        r.name,
        'anonymous',
        r.route,
        [...r.methods],
      ]);
      expect(typeof options?.handler).toBe('function');
    }
  });

  it('every path parameter of every template has a schema, and no schema names a missing one', () => {
    for (const r of routes) {
      const declared = Object.keys(r.params?.shape ?? {}).sort();
      expect([r.name, declared]).toEqual([r.name, templateParams(r.route)]);
    }
  });

  it('each route is documented and has a well-formed access rule and body kind', () => {
    for (const r of routes) {
      expect([r.name, r.summary.length > 10, r.tags.length > 0]).toEqual([r.name, true, true]);
      if (r.access !== 'public') {
        expect(r.access.roles.length).toBeGreaterThan(0);
        for (const role of r.access.roles) expect(ROUTE_ROLES).toContain(role);
        // Exactly one scope per route, one of the known ones (a scoped key needs it).
        expect([r.name, SCOPES.includes(r.access.scope)]).toEqual([r.name, true]);
      }
      expect([r.name, r.bodyKind === 'json']).toEqual([r.name, r.body !== undefined]);
      expect([r.name, r.bodyKind === 'raw']).toEqual([r.name, r.rawBody !== undefined]);
      if (r.methods.includes('GET') || r.methods.includes('DELETE'))
        expect([r.name, r.bodyKind]).toEqual([r.name, 'none']);
    }
  });

  it('only health and the static pages and API description (no data) are public', () => {
    expect(
      routes
        .filter((r) => r.access === 'public')
        .map((r) => r.name)
        .sort(),
    ).toEqual(['dashboard-get', 'docs-get', 'health-get', 'openapi-get']);
  });
});
