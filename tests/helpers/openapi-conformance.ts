/**
 * Checks recorded HTTP exchanges against the OpenAPI document with a JSON Schema validator (Ajv,
 * draft 2020-12, formats on): a request the route *accepted* (2xx) must be one the document
 * accepts — path and query parameters and JSON body — and every answer must match the response
 * the document gives for its status (or its `2XX`/`default`). A disagreement is a problem string.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export interface Exchange {
  method: string;
  /** Relative to the API base (`/api`), with the query string: `/events?after=0`. */
  path: string;
  /** The JSON request body as sent (undefined when there was none or it was not JSON). */
  requestBody?: unknown;
  /** The content type of the body sent (undefined when none was sent). */
  requestContentType?: string;
  status: number;
  responseContentType: string | null;
  /** The parsed JSON answer (undefined when empty). */
  responseBody?: unknown;
}

type Json = { [key: string]: unknown };
interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema: Json }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Json }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Json }> }>;
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; responses?: Record<string, Json> };
}

const COMPONENTS_ID = 'urn:portal-bridge:openapi-components';

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${COMPONENTS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v);
  }
  return out;
}

interface CompiledPath {
  template: string;
  pattern: RegExp;
  names: string[];
  literals: number;
}

export class OpenApiConformance {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<Json, ValidateFunction>();
  private readonly paths: CompiledPath[];

  constructor(private readonly doc: OpenApiDoc) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(doc.components.schemas) as Json });
    this.paths = Object.keys(doc.paths)
      .map((template) => {
        const names: string[] = [];
        const source = template
          .split('/')
          .map((segment) => {
            const param = /^\{([^}]+)\}$/.exec(segment);
            if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            names.push(param[1] as string);
            return '([^/]+)';
          })
          .join('/');
        return {
          template,
          pattern: new RegExp(`^${source}$`),
          names,
          literals: template.split('/').filter((s) => s && !s.startsWith('{')).length,
        };
      })
      // Literal segments first, as the hosts route them (`/events/stream` before `/events/{id}`).
      .sort((a, b) => b.literals - a.literals);
  }

  /** Every problem with one exchange; an empty list when the document agrees with it. */
  check(exchange: Exchange): string[] {
    const where = `${exchange.method} ${exchange.path} → ${exchange.status}`;
    const url = new URL(exchange.path, 'http://bridge.invalid');
    const match = this.match(url.pathname);
    if (!match) return []; // not a route of the document (e.g. an unknown path answered 404)
    const operation = this.doc.paths[match.template]?.[exchange.method.toLowerCase()];
    if (!operation) return []; // a method the route does not have (405)
    const problems: string[] = [];
    const say = (what: string) =>
      problems.push(`${where} (${operation.operationId ?? match.template}): ${what}`);

    if (exchange.status >= 200 && exchange.status < 300) {
      for (const parameter of operation.parameters ?? []) {
        const value =
          parameter.in === 'path'
            ? match.values[parameter.name]
            : (url.searchParams.get(parameter.name) ?? undefined);
        if (value === undefined) {
          if (parameter.required) say(`the required ${parameter.in} parameter ${parameter.name} is missing`);
          continue;
        }
        const errors = this.validate(parameter.schema, value);
        if (errors)
          say(
            `the route accepted ${parameter.in} parameter ${parameter.name}=${JSON.stringify(value)}, the document refuses it: ${errors}`,
          );
      }
      const body = operation.requestBody;
      if (body?.content['application/json'] && exchange.requestBody !== undefined) {
        const errors = this.validate(body.content['application/json'].schema, exchange.requestBody);
        if (errors) say(`the route accepted a body the document refuses: ${errors}`);
      } else if (
        body?.required &&
        exchange.requestBody === undefined &&
        body.content['application/json'] &&
        // A body of another type the document also offers (a CSV import) is not a missing body.
        !(
          exchange.requestContentType !== undefined &&
          body.content[exchange.requestContentType.split(';')[0]?.trim() ?? '']
        )
      ) {
        say('the route accepted a request without the body the document requires');
      }
    }

    const key = String(exchange.status);
    const response =
      operation.responses[key] ?? operation.responses[`${key[0]}XX`] ?? operation.responses.default;
    if (!response) {
      say('the status is not documented');
      return problems;
    }
    const resolved = response.$ref
      ? (this.doc.components.responses?.[
          response.$ref.replace('#/components/responses/', '')
        ] as typeof response)
      : response;
    if (!resolved?.content) return problems; // documented without a body schema
    const type = (exchange.responseContentType ?? '').split(';')[0]?.trim() ?? '';
    const media = resolved.content[type];
    if (!media) {
      say(
        `the answer's content type ${type || '(none)'} is not documented (${Object.keys(resolved.content).join(', ')})`,
      );
      return problems;
    }
    if (exchange.responseBody === undefined) {
      say('the answer has no body, the document describes one');
      return problems;
    }
    const errors = this.validate(media.schema, exchange.responseBody);
    if (errors) say(`the answer does not match the documented schema: ${errors}`);
    return problems;
  }

  private match(pathname: string): { template: string; values: Record<string, string> } | undefined {
    for (const path of this.paths) {
      const m = path.pattern.exec(pathname);
      if (!m) continue;
      const values: Record<string, string> = {};
      try {
        path.names.forEach((name, i) => (values[name] = decodeURIComponent(m[i + 1] as string)));
      } catch {
        return undefined; // not validly percent-encoded: the host refuses it before any route (400)
      }
      return { template: path.template, values };
    }
    return undefined;
  }

  /** Ajv's errors as one line, or undefined when `value` is valid. */
  private validate(schema: Json, value: unknown): string | undefined {
    let validator = this.validators.get(schema);
    if (!validator) {
      validator = this.ajv.compile(rewriteRefs(schema) as Json);
      this.validators.set(schema, validator);
    }
    if (validator(value)) return undefined;
    return (validator.errors ?? [])
      .slice(0, 5)
      .map(
        (e) =>
          `${e.instancePath || '(root)'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      )
      .join('; ');
  }
}
