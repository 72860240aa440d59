import type { Registration } from './function-registry';
import { parseConstraints, RouteTemplateError, type ConstraintCheck } from './route-constraints';

export { RouteTemplateError };

export interface HttpRoute {
  name: string;
  methods: string[];
  template: string;
  regex: RegExp;
  params: string[];
  handler: Registration['options']['handler'];
  /** Literal segments count: more specific templates win over parameterised ones. */
  specificity: number;
  /** Inline constraints by parameter: a value that fails one means the route does not match. */
  constraints: Record<string, ConstraintCheck[]>;
}

export type RouteMatch =
  | { kind: 'match'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits a template at `/` outside parameters; `{{` and `}}` are literal braces (kept escaped here). */
function splitSegments(template: string): string[] {
  const segments: string[] = [];
  let current = '';
  let inParameter = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      current += c + c;
      i++;
      continue;
    }
    if (c === '{') inParameter = true;
    else if (c === '}') inParameter = false;
    else if (c === '/' && !inParameter) {
      segments.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  segments.push(current);
  return segments.filter((segment) => segment.length > 0);
}

const unescapeBraces = (s: string) => s.replace(/\{\{/g, '{').replace(/\}\}/g, '}');

interface ParameterSegment {
  name: string;
  catchAll: boolean;
  optional: boolean;
  constraints: ConstraintCheck[];
}

/** Index of the `}` that closes the parameter opened at 0 (doubled braces inside are literal), or -1. */
function parameterEnd(segment: string): number {
  for (let i = 1; i < segment.length; i++) {
    const c = segment[i];
    if ((c === '{' || c === '}') && segment[i + 1] === c) i++;
    else if (c === '}') return i;
  }
  return -1;
}

/** `{name}`, `{name?}`, `{*rest}`, `{name:int:min(1)}`; undefined for a literal segment. */
function parseParameter(segment: string, template: string): ParameterSegment | undefined {
  const opensParameter = segment.startsWith('{') && !segment.startsWith('{{');
  if (!opensParameter) {
    if (/[{}]/.test(segment.replace(/\{\{|\}\}/g, ''))) {
      throw new RouteTemplateError(`"${template}": "${segment}" mixes text and a parameter (not supported)`);
    }
    return undefined;
  }
  if (parameterEnd(segment) !== segment.length - 1) {
    throw new RouteTemplateError(`"${template}": "${segment}" must be one whole parameter`);
  }
  let inner = unescapeBraces(segment.slice(1, -1));
  const head = /^(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)/.exec(inner);
  if (!head) throw new RouteTemplateError(`"${template}": a parameter needs a name ("${segment}")`);
  const optional = inner.endsWith('?');
  if (optional) inner = inner.slice(0, -1);
  const rest = inner.slice(head[0].length);
  if (rest.includes('=') && !rest.startsWith(':')) {
    throw new RouteTemplateError(`"${template}": default values are not supported ("${segment}")`);
  }
  return {
    name: head[2] as string,
    catchAll: head[1] !== undefined,
    optional,
    constraints: parseConstraints(rest),
  };
}

/**
 * Compiles an Azure Functions route template: `{name}`, `{name?}`, `{*rest}`, and inline constraints
 * `{name:constraint}` (route-constraints.ts). Throws RouteTemplateError for what it cannot honour.
 */
export function compileTemplate(template: string): {
  regex: RegExp;
  params: string[];
  specificity: number;
  constraints: Record<string, ConstraintCheck[]>;
} {
  const params: string[] = [];
  const constraints: Record<string, ConstraintCheck[]> = {};
  let specificity = 0;
  const source = splitSegments(template)
    .map((segment) => {
      const param = parseParameter(segment, template);
      if (!param) {
        specificity += 1;
        return `/${escapeRegex(unescapeBraces(segment))}`;
      }
      const { name, catchAll, optional } = param;
      if (params.includes(name))
        throw new RouteTemplateError(`"${template}": parameter ${name} appears twice`);
      params.push(name);
      if (param.constraints.length > 0) constraints[name] = param.constraints;
      if (catchAll) return `(?:/(?<${name}>.*))?`;
      return optional ? `(?:/(?<${name}>[^/]+))?` : `/(?<${name}>[^/]+)`;
    })
    .join('');
  return { regex: new RegExp(`^${source}/?$`, 'i'), params, specificity, constraints };
}

export class RouteTable {
  private readonly routes: HttpRoute[] = [];

  constructor(registrations: Registration[]) {
    for (const r of registrations) {
      if (r.trigger !== 'http') continue;
      const template = String(r.options.route ?? r.name);
      const methods = (
        (r.options.methods as string[] | undefined) ?? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']
      ).map((m) => m.toUpperCase());
      let compiled: ReturnType<typeof compileTemplate>;
      try {
        compiled = compileTemplate(template);
      } catch (error) {
        if (error instanceof RouteTemplateError) throw new RouteTemplateError(`${r.name}: ${error.message}`);
        throw error;
      }
      this.routes.push({ name: r.name, methods, template, handler: r.options.handler, ...compiled });
    }
    this.routes.sort((a, b) => b.specificity - a.specificity);
  }

  get all(): readonly HttpRoute[] {
    return this.routes;
  }

  match(method: string, path: string): RouteMatch {
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      for (const name of route.params) {
        const raw = m.groups?.[name];
        if (raw !== undefined) params[name] = decodeURIComponent(raw);
      }
      if (!satisfies(route, params)) continue;
      if (route.methods.includes(method)) return { kind: 'match', route, params };
      route.methods.forEach((verb) => allowed.add(verb));
    }
    return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'not-found' };
  }
}

/** Every present parameter passes its constraints (an absent optional parameter has nothing to check). */
function satisfies(route: HttpRoute, params: Record<string, string>): boolean {
  for (const [name, checks] of Object.entries(route.constraints)) {
    const value = params[name];
    if (value !== undefined && !checks.every((check) => check(value))) return false;
  }
  return true;
}
