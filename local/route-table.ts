import type { Registration } from './function-registry';

export interface HttpRoute {
  name: string;
  methods: string[];
  template: string;
  regex: RegExp;
  params: string[];
  handler: Registration['options']['handler'];
  /** Literal segments count: more specific templates win over parameterised ones. */
  specificity: number;
  /** `{name:regex(…)}` constraints: a value that fails one means the route does not match. */
  constraints: Record<string, RegExp>;
}

export type RouteMatch =
  | { kind: 'match'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles an Azure Functions route template: `{name}`, `{name?}`, `{name:constraint}`, `{*rest}`.
 * A `regex(…)` constraint is checked as ASP.NET Core routing does (the expression matches the
 * decoded value, ignoring case); other constraints are not checked here.
 */
export function compileTemplate(template: string): {
  regex: RegExp;
  params: string[];
  specificity: number;
  constraints: Record<string, RegExp>;
} {
  const params: string[] = [];
  const constraints: Record<string, RegExp> = {};
  let specificity = 0;
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  const source = segments
    .map((segment) => {
      const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::regex\((.+)\))?(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!param) {
        specificity += 1;
        return `/${escapeRegex(segment)}`;
      }
      const [, catchAll, name, constraint, optional] = param;
      params.push(name as string);
      if (constraint !== undefined) {
        constraints[name as string] = new RegExp(constraint.replace(/\{\{/g, '{').replace(/\}\}/g, '}'), 'i');
      }
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
      this.routes.push({
        name: r.name,
        methods,
        template,
        handler: r.options.handler,
        ...compileTemplate(template),
      });
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
      const fails = Object.entries(route.constraints).some(
        ([name, constraint]) => params[name] === undefined || !constraint.test(params[name] as string),
      );
      if (fails) continue;
      if (route.methods.includes(method)) return { kind: 'match', route, params };
      route.methods.forEach((verb) => allowed.add(verb));
    }
    return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'not-found' };
  }
}
