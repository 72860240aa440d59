import { ok } from '../shared/http/http-response';
import { openApiDocument, type OpenApiDocument } from '../shared/http/openapi';
import { route } from '../shared/http/route';
import { registeredRoutes } from '../shared/http/route-registry';

let document: { routes: number; doc: OpenApiDocument } | undefined;

/**
 * The OpenAPI 3.1 document, generated from the route registry (every route's zod schemas). Public:
 * it describes the API, as README.md does, and holds no data. Built once per instance, after every
 * function file has registered its route.
 */
export const openapiGet = route('openapi-get', {
  methods: ['GET'],
  route: 'openapi.json',
  access: 'public',
  summary: 'The OpenAPI 3.1 document of every route, generated from their schemas',
  tags: ['docs'],
  handler: async () => {
    const routes = registeredRoutes();
    if (document?.routes !== routes.length)
      document = { routes: routes.length, doc: openApiDocument(routes) };
    return ok(document.doc, { 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
  },
});
