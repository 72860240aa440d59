/**
 * The OpenAPI 3.1 document is generated from the route registry: every registered route is in it
 * with its parameters, body and responses, every schema compiles and every reference resolves; the
 * conformance checker the e2e tier uses catches a document that disagrees with a route; and a real
 * exchange with a handler agrees with the document.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { app } from '@azure/functions';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { API_VERSION, openApiDocument, openApiPath } from '../../../shared/http/openapi';
import { setServices, type Services } from '../../../shared/container';
import { loadAllRoutes } from '../../helpers/all-routes';
import { invokeHandler } from '../../helpers/invoke-handler';
import { OpenApiConformance, type OpenApiDoc } from '../../helpers/openapi-conformance';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

jest.spyOn(app, 'http').mockImplementation(() => undefined);
const routes = loadAllRoutes();
const doc = openApiDocument(routes);
const conformance = () => new OpenApiConformance(doc as unknown as OpenApiDoc);

type Json = Record<string, unknown>;
const operationOf = (route: string, method: string) =>
  doc.paths[openApiPath(route)]?.[method.toLowerCase()] as Json;

function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refs(v, found));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.push(v);
      else refs(v, found);
    }
  return found;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the version of package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(API_VERSION);
    expect(API_VERSION).toBe(pkg.version);
  });

  it('has every registered route and method, once, with its access rule', () => {
    expect(routes.length).toBeGreaterThan(40);
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(routes.reduce((n, r) => n + r.methods.length, 0));
    for (const r of routes) {
      for (const method of r.methods) {
        const op = operationOf(r.route, method);
        expect([r.name, method, op === undefined]).toEqual([r.name, method, false]);
        expect(op.summary).toBe(r.summary);
        expect(op.tags).toEqual([...r.tags]);
        expect(op.security).toEqual(r.access === 'public' ? [] : [{ apiKey: [] }]);
        expect(op['x-access']).toEqual(r.access === 'public' ? 'public' : { roles: [...r.access.roles] });
      }
    }
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("declares each route's path and query parameters and its body as the route reads them", () => {
    for (const r of routes) {
      const op = operationOf(r.route, r.methods[0] as string);
      const parameters = (op.parameters ?? []) as { name: string; in: string; required: boolean }[];
      const inPath = parameters.filter((p) => p.in === 'path').map((p) => p.name);
      const templateNames = [...r.route.matchAll(/\{\*?([A-Za-z_]\w*)/g)].map((m) => m[1]);
      expect([r.name, inPath.sort()]).toEqual([r.name, templateNames.sort()]);
      expect([
        r.name,
        parameters
          .filter((p) => p.in === 'query')
          .map((p) => p.name)
          .sort(),
      ]).toEqual([r.name, Object.keys(r.query?.shape ?? {}).sort()]);
      const body = op.requestBody as { required: boolean; content: Json } | undefined;
      if (r.bodyKind === 'none') expect([r.name, body]).toEqual([r.name, undefined]);
      else if (r.bodyKind === 'json') {
        expect([r.name, body?.required, Object.keys(body?.content ?? {})]).toEqual([
          r.name,
          !r.bodyOptional,
          ['application/json'],
        ]);
      } else
        expect([r.name, Object.keys(body?.content ?? {})]).toEqual([
          r.name,
          [...(r.rawBody?.contentTypes ?? [])],
        ]);
      const responses = op.responses as Json;
      expect(responses.default).toEqual({ $ref: '#/components/responses/Problem' });
      for (const status of Object.keys(r.responses))
        expect([r.name, status in responses]).toEqual([r.name, true]);
    }
  });

  it('every reference resolves and every schema compiles (JSON Schema 2020-12)', () => {
    for (const ref of refs(doc)) {
      const [, kind, name] = /^#\/components\/(schemas|responses)\/(.+)$/.exec(ref) ?? [];
      expect([ref, name !== undefined && name in (doc.components[kind as 'schemas'] ?? {})]).toEqual([
        ref,
        true,
      ]);
    }
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const rewrite = (s: unknown) =>
      JSON.parse(JSON.stringify(s).replace(/#\/components\/schemas\//g, 'urn:x:c#/$defs/'));
    ajv.addSchema({ $id: 'urn:x:c', $defs: rewrite(doc.components.schemas) });
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item))
        for (const schema of schemasIn(op)) expect(() => ajv.compile(rewrite(schema))).not.toThrow();
  });
});

function schemasIn(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => schemasIn(v, found));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === 'schema') found.push(v);
      else schemasIn(v, found);
    }
  return found;
}

describe('the conformance check (what the e2e tier runs over its recorded exchanges)', () => {
  const sync = {
    method: 'POST',
    path: '/users/ann/sync',
    requestBody: { data: { name: 'Ann' } },
    status: 200,
    responseContentType: 'application/json; charset=utf-8',
    responseBody: {
      success: true,
      userId: 'ann',
      version: 1,
      data: { name: 'Ann' },
      applied: ['name'],
      rejected: [],
      conflicts: [],
      latencyMs: 1.5,
    },
  };

  it('accepts an exchange that agrees with the document', () => {
    expect(conformance().check(sync)).toEqual([]);
  });

  it('leaves out what no documented route serves: unknown paths, other methods, malformed encodings', () => {
    expect(conformance().check({ ...sync, path: '/nowhere', status: 404 })).toEqual([]);
    expect(conformance().check({ ...sync, method: 'PATCH', status: 405 })).toEqual([]);
    expect(conformance().check({ ...sync, path: '/users/%E0%A4%A/sync', status: 400 })).toEqual([]);
  });

  it('fails an answer that differs from the documented schema', () => {
    const { version: _v, ...withoutVersion } = sync.responseBody;
    expect(conformance().check({ ...sync, responseBody: withoutVersion })).toEqual([
      expect.stringMatching(/users-sync.*answer does not match.*version/),
    ]);
    expect(conformance().check({ ...sync, responseBody: { ...sync.responseBody, extra: 1 } })).toEqual([
      expect.stringMatching(/must NOT have additional properties/),
    ]);
  });

  it('fails an accepted request the document would refuse, and an undocumented content type', () => {
    expect(conformance().check({ ...sync, requestBody: { data: {}, sneaky: true } })).toEqual([
      expect.stringMatching(/route accepted a body the document refuses/),
    ]);
    expect(conformance().check({ ...sync, path: '/users/a%2Fb/sync' })).toEqual([
      expect.stringMatching(/accepted path parameter userId="a\/b"/),
    ]);
    expect(conformance().check({ ...sync, responseContentType: 'text/plain' })).toEqual([
      expect.stringMatching(/content type text\/plain is not documented/),
    ]);
  });

  it('checks problem answers against the Problem schema, but not the request of a refused one', () => {
    const refused = {
      ...sync,
      requestBody: { nonsense: 1 },
      status: 400,
      responseContentType: 'application/problem+json',
    };
    expect(
      conformance().check({ ...refused, responseBody: { type: 'urn:x', title: 'Bad', status: 400 } }),
    ).toEqual([]);
    expect(conformance().check({ ...refused, responseBody: { title: 'no type' } })).toEqual([
      expect.stringMatching(/answer does not match/),
    ]);
  });
});

describe('real handler answers agree with the document', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  beforeAll(() => {
    ({ services, cleanup } = makeTestServices());
    setServices(services);
  });
  afterAll(async () => {
    setServices(undefined);
    await cleanup();
  });

  it.each([
    ['health-get', 'GET', '/health', {}, undefined],
    ['users-sync', 'POST', '/users/ann/sync', { userId: 'ann' }, { data: { name: 'Ann', role: 'x' } }],
    ['metrics-get', 'GET', '/metrics', {}, undefined],
    ['lockstep-status-get', 'GET', '/lockstep/status', {}, undefined],
    ['providers-get', 'GET', '/providers', {}, undefined],
    ['events-list', 'GET', '/events', {}, undefined],
    ['subscriptions-list', 'GET', '/subscriptions', {}, undefined],
  ])('%s', async (name, method, urlPath, params, body) => {
    const route = routes.find((r) => r.name === name);
    const handler = (app.http as jest.Mock).mock.calls.find(([n]) => n === name)?.[1].handler;
    expect(route && handler).toBeTruthy();
    const res = await invokeHandler(handler, {
      method,
      url: `http://localhost/api${urlPath}`,
      key: TEST_ADMIN_KEY,
      params,
      ...(body ? { body } : {}),
    });
    expect(res.status).toBeLessThan(300);
    const exchange = {
      method,
      path: urlPath,
      requestBody: body,
      status: res.status,
      responseContentType: res.headers.get('content-type'),
      responseBody: JSON.parse(res.raw),
    };
    expect(conformance().check(exchange)).toEqual([]);
  });
});
