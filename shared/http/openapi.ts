/**
 * The OpenAPI 3.1 document of the bridge, generated from the route registry: every route's
 * methods, template, access rule, path/query/body zod schemas and declared responses. Schemas are
 * converted with zod's own JSON Schema output (draft 2020-12, which OpenAPI 3.1's dialect extends):
 * requests as what the route *accepts* (zod's input side), responses as what it sends (output).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RegisteredRoute } from './route-registry';
import { problemSchema } from './response-schemas';

/** The API document's version; kept equal to package.json's by a unit test. */
export const API_VERSION = '0.1.0';

export type JsonSchema = { [key: string]: unknown };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
    responses: Record<string, JsonSchema>;
  };
}

const COMPONENTS = '#/components/schemas/';

/** Azure route template → OpenAPI path: `users/{userId}` → `/users/{userId}`, `{*asset}` → `{asset}`. */
export function openApiPath(template: string): string {
  return `/${template.replace(/\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?\??\}/g, '{$1}')}`;
}

/**
 * Collects the shared definitions (`$defs`) of every converted schema into components/schemas:
 * zod names the schemas registered with `.meta({ id })` after their id and the rest `__schemaN`;
 * identical definitions share one component, different ones with the same name get a suffix.
 */
class ComponentCollector {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly byContent = new Map<string, string>();

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
    const {
      $schema: _dialect,
      $defs,
      ...rest
    } = converted as JsonSchema & { $defs?: Record<string, JsonSchema> };
    const renames = new Map<string, string>();
    for (const [name, def] of Object.entries($defs ?? {})) renames.set(name, this.register(name, def, io));
    // Definitions may refer to each other: rewrite inside them too, once every name is known.
    for (const [, component] of renames) {
      this.schemas[component] = rewriteRefs(this.schemas[component], renames) as JsonSchema;
    }
    return rewriteRefs(rest, renames) as JsonSchema;
  }

  private register(name: string, def: JsonSchema, io: 'input' | 'output'): string {
    const selfFree = JSON.stringify(def).split(`"#/$defs/${name}"`).join('"#self"');
    const known = this.byContent.get(selfFree);
    if (known) return known;
    const anonymous = name.startsWith('__schema');
    const base = anonymous
      ? isJsonValue(selfFree)
        ? 'JsonValue'
        : `Schema_${createHash('sha256').update(selfFree).digest('hex').slice(0, 10)}`
      : io === 'input' && name in this.schemas
        ? `${name}Input`
        : name;
    let component = base;
    for (let n = 2; component in this.schemas; n++) component = `${base}${n}`;
    this.byContent.set(selfFree, component);
    this.schemas[component] = def;
    return component;
  }
}

/** zod's z.json(): any JSON value. */
const JSON_VALUE_SHAPE = JSON.stringify({
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#self' } },
    { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { $ref: '#self' } },
  ],
});
const isJsonValue = (selfFree: string) => selfFree === JSON_VALUE_SHAPE;

function rewriteRefs(value: unknown, renames: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, renames));
  if (!value || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')) {
      const name = v.slice('#/$defs/'.length);
      out[key] = `${COMPONENTS}${renames.get(name) ?? name}`;
    } else out[key] = rewriteRefs(v, renames);
  }
  return out;
}

function parameters(
  components: ComponentCollector,
  where: 'path' | 'query',
  schema: z.ZodObject | undefined,
): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const converted = components.convert(field as z.ZodType, 'input');
    const { description, ...fieldSchema } = converted;
    const optional = (field as z.ZodType).safeParse(undefined).success;
    return {
      name,
      in: where,
      required: where === 'path' ? true : !optional,
      schema: fieldSchema,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

function accessText(route: RegisteredRoute): string {
  return route.access === 'public' ? 'Public: no key needed.' : `Roles: ${route.access.roles.join(', ')}.`;
}

function operation(components: ComponentCollector, route: RegisteredRoute, method: string): JsonSchema {
  const op: JsonSchema = {
    operationId: route.methods.length === 1 ? route.name : `${route.name}-${method}`,
    summary: route.summary,
    description: accessText(route),
    tags: [...route.tags],
    'x-access': route.access === 'public' ? 'public' : { roles: [...route.access.roles] },
    security: route.access === 'public' ? [] : [{ apiKey: [] }],
  };
  const params = [
    ...parameters(components, 'path', route.params),
    ...parameters(components, 'query', route.query),
  ];
  if (params.length > 0) op.parameters = params;
  if (route.bodyKind === 'json' && route.body) {
    op.requestBody = {
      required: !route.bodyOptional,
      content: { 'application/json': { schema: components.convert(route.body, 'input') } },
    };
  } else if (route.bodyKind === 'raw' && route.rawBody) {
    op.requestBody = {
      required: true,
      description: route.rawBody.description,
      content: Object.fromEntries(route.rawBody.contentTypes.map((type) => [type, { schema: {} }])),
    };
  }
  const responses: JsonSchema = {};
  for (const [status, schema] of Object.entries(route.responses)) {
    if (!schema) continue;
    responses[status] = {
      description: Number(status) < 300 ? 'Success' : 'See the body',
      content: { 'application/json': { schema: components.convert(schema, 'output') } },
    };
  }
  if (!Object.keys(responses).some((s) => s.startsWith('2'))) {
    responses['2XX'] = { description: 'Success (the body is described in the summary and README.md)' };
  }
  responses.default = { $ref: '#/components/responses/Problem' };
  op.responses = responses;
  return op;
}

/** The document for `routes` (normally every registered route). */
export function openApiDocument(routes: readonly RegisteredRoute[]): OpenApiDocument {
  const components = new ComponentCollector();
  const paths: OpenApiDocument['paths'] = {};
  const sorted = [...routes].sort((a, b) => openApiPath(a.route).localeCompare(openApiPath(b.route)));
  for (const route of sorted) {
    const path = openApiPath(route.route);
    const item = (paths[path] ??= {});
    for (const method of route.methods)
      item[method.toLowerCase()] = operation(components, route, method.toLowerCase());
  }
  const problem = components.convert(problemSchema, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portal Bridge',
      version: API_VERSION,
      description:
        'Keeps the IntelliCV admin and user portals in lockstep. Every error is application/problem+json (RFC 9457). ' +
        'Authenticate with an API key in the x-api-key header; see README.md for roles and limits.',
    },
    servers: [{ url: '/api', description: 'this bridge' }],
    tags: [...new Set(sorted.flatMap((r) => r.tags))].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'A bridge API key (pbk_…) or the admin key.',
        },
      },
      responses: {
        Problem: {
          description: 'An error (RFC 9457 problem details)',
          content: { 'application/problem+json': { schema: problem } },
        },
      },
    },
  };
}
