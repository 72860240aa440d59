import type { HttpMethod } from '@azure/functions';
import type { z } from 'zod';
import type { RouteRole } from '../services/principal';
import type { Scope } from '../services/scopes';
import type { RateClass } from '../domain/rate-limit-rules';

/**
 * Every HTTP route of the bridge, as declared by its function file through `route(name, def)`.
 * The registry is what OpenAPI and the role × route matrix are generated from; it holds the
 * declaration only (schemas, access, documentation), never a handler.
 *
 * It fills as function files are loaded: load them all first (the Functions host and the local
 * host load every file of package.json "main"; tests can require every file under functions/).
 */

/**
 * Who may call a route at all, and the route group it belongs to; which *object* a caller may
 * touch is access-policy.ts's call.
 *
 * - `roles`: the roles whose keys (and app-role tokens) may call it; add `'end-user'` only where
 *   the handler narrows to the caller's own data through access-policy.ts.
 * - `scope`: the one route group (shared/services/scopes.ts) a scoped key needs; usage is counted
 *   per scope.
 * - `rateClass`: the rate-limit class (shared/domain/rate-limit-rules.ts); by default `read`
 *   for GET and `write` otherwise.
 * - `tickets`: the route also accepts a stream ticket in `?ticket=` instead of a credential header
 *   (routes a browser opens with EventSource, which cannot send headers); the ticket acts as the
 *   principal that asked for it (end users included, a key's scopes included), and the role and
 *   scope checks still apply.
 */
export type Access =
  { roles: readonly RouteRole[]; scope: Scope; rateClass?: RateClass; tickets?: boolean } | 'public';

/**
 * How a route reads its body: `json` (validated against `body` before the handler runs), `raw`
 * (the handler streams or parses it itself: files, CSV/JSON taxonomy import), `none`.
 */
export type BodyKind = 'json' | 'raw' | 'none';

/** A body the handler reads itself, with the content types it accepts (for documentation). */
export interface RawBody {
  readonly kind: 'raw';
  readonly contentTypes: readonly string[];
  readonly description: string;
  /** The route's own body limit, when it is a fixed one (hosts refuse larger bodies from the header). */
  readonly maxBytes?: number;
}

export function rawBody(
  contentTypes: readonly string[],
  description: string,
  options: { maxBytes?: number } = {},
): RawBody {
  return { kind: 'raw', contentTypes, description, ...options };
}

/** Response schemas by status, where a route declares them (documentation only; not enforced). */
export type RouteResponses = Readonly<Partial<Record<number, z.ZodType>>>;

export interface RegisteredRoute {
  /** The function name (= the file name under functions/). */
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Azure route template under the /api prefix, e.g. `users/{userId}/sync`. */
  readonly route: string;
  readonly access: Access;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** The JSON body schema when `bodyKind` is `json`. */
  readonly body?: z.ZodType;
  readonly bodyKind: BodyKind;
  /** For `json`: whether an empty body is accepted (and read as `{}`). */
  readonly bodyOptional: boolean;
  /** For `raw`: what the handler accepts. */
  readonly rawBody?: RawBody;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly responses: RouteResponses;
}

const routes = new Map<string, RegisteredRoute>();

/** Called by `route()`; a second route with the same name is a programming error. */
export function recordRoute(definition: RegisteredRoute): void {
  if (routes.has(definition.name)) throw new Error(`HTTP route ${definition.name} is registered twice`);
  routes.set(definition.name, Object.freeze({ ...definition }));
}

/** Every route declared so far, in registration order. */
export function registeredRoutes(): readonly RegisteredRoute[] {
  return [...routes.values()];
}

export function registeredRoute(name: string): RegisteredRoute | undefined {
  return routes.get(name);
}
