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
}

export type RouteMatch =
  | { kind: 'match'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles an Azure Functions route template: `{name}`, `{name?}`, `{name:constraint}`, `{*rest}`. */
export function compileTemplate(template: string): { regex: RegExp; params: string[]; specificity: number } {
  const params: string[] = [];
  let specificity = 0;
  const segments = template.replace(/^\/+|\/+$/g, '').split('/');
  const source = segments
    .map((segment) => {
      const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!param) {
        specificity += 1;
        return `/${escapeRegex(segment)}`;
      }
      const [, catchAll, name, optional] = param;
      params.push(name as string);
      if (catchAll) return `(?:/(?<${name}>.*))?`;
      return optional ? `(?:/(?<${name}>[^/]+))?` : `/(?<${name}>[^/]+)`;
    })
    .join('');
  return { regex: new RegExp(`^${source}/?$`, 'i'), params, specificity };
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
      if (route.methods.includes(method)) {
        const params: Record<string, string> = {};
        for (const name of route.params) {
          const raw = m.groups?.[name];
          if (raw !== undefined) params[name] = decodeURIComponent(raw);
        }
        return { kind: 'match', route, params };
      }
      route.methods.forEach((verb) => allowed.add(verb));
    }
    return allowed.size > 0 ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'not-found' };
  }
}
