import { z } from 'zod';
import { route } from '../shared/http/route';
import { serveSite, siteAssetParam } from '../shared/http/static-site';

/** Interactive API reference (Swagger UI, bundled) over GET /api/openapi.json, and its assets. */
export const docsGet = route('docs-get', {
  methods: ['GET'],
  route: 'docs/{*asset}',
  access: 'public',
  params: z.object({ asset: siteAssetParam }),
  summary: 'Interactive API reference (Swagger UI) over the OpenAPI document, and its assets',
  tags: ['docs'],
  handler: ({ services, request, params }) => serveSite(services, request, 'docs', params.asset),
});
