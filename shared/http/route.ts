import {
  app,
  type HttpHandler,
  type HttpMethod,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import type { z } from 'zod';
import { ConfigError } from '../config';
import { getServices, type Services } from '../container';
import { RESERVED_KEYS } from '../domain/ids';
import { isStoreError } from '../ports/document-store';
import { operationFromTraceParent, runWithTelemetryOperation } from '../ports/telemetry';
import { TokenVerifierUnavailableError } from '../ports/token-verifier';
import type { RateClass } from '../domain/rate-limit-rules';
import { routeDenial } from '../services/access-policy';
import { ServiceError, type ServiceErrorKind } from '../services/errors';
import { AuthenticationError } from '../services/identity-service';
import { keyPrincipal, principalKey, type Principal } from '../services/principal';
import { RateLimitExceededError } from '../services/rate-limit-service';
import { problem } from './http-response';
import './http-streams';
import { ProblemError, unauthorized } from './problem-error';
import { readJsonBody } from './request-body';
import { recordRoute, type Access, type RawBody, type RouteResponses } from './route-registry';
import { validationProblem } from './validation';

export type { Access, RawBody } from './route-registry';
export { rawBody } from './route-registry';

/** What every handler gets, whatever its route declares. */
export interface RouteArgs {
  request: HttpRequest;
  context: InvocationContext;
  services: Services;
  principal: Principal;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type ObjectSchema = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>;

/** A handler's arguments: the validated params, query and body typed from the route's schemas. */
export interface HandlerArgs<P, Q, B> extends RouteArgs {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

/**
 * One HTTP route, declared at the bottom of its function file. `route(name, definition)` registers
 * it with the Functions host (anonymous at the host: the bridge checks keys itself) and records it
 * in the route registry (OpenAPI, the authorization matrix).
 */
export interface RouteDefinition<
  P extends ObjectSchema | undefined,
  Q extends ObjectSchema | undefined,
  B extends z.ZodType | RawBody | undefined,
> {
  methods: readonly HttpMethod[];
  /** Azure route template under /api, e.g. `users/{userId}/sync`. */
  route: string;
  access: Access;
  /** Every `{param}` of the template; checked before the handler (400 naming the parameter). */
  params?: P;
  /** The query string (strings in; unknown parameters are ignored). */
  query?: Q;
  /** A zod schema: a JSON body read and validated with the body limit. `rawBody(…)`: the handler reads it. */
  body?: B;
  /** A JSON body may be left out entirely (it then reads as `{}`). */
  bodyOptional?: boolean;
  /** One line for the API reference; starts with the seed's operation name where there is one. */
  summary: string;
  tags: readonly string[];
  responses?: RouteResponses;
  /** Called when params, query or body are refused (e.g. to count a client rejection). */
  onRejectedInput?: (services: Services, elapsedMs: number) => void;
  handler: (args: HandlerArgs<P, Q, B>) => Promise<HttpResponseInit>;
}

const SERVICE_ERROR_STATUS: Record<ServiceErrorKind, [number, string]> = {
  validation: [400, 'Validation failed'],
  'not-found': [404, 'Not found'],
  forbidden: [403, 'Forbidden'],
  conflict: [409, 'Conflict'],
  'precondition-failed': [412, 'Precondition failed'],
  'payload-too-large': [413, 'Payload too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'payment-required': [402, 'Payment required'],
  'idempotency-key-reused': [422, 'Idempotency key reused'],
  unavailable: [503, 'Service unavailable'],
};

const PUBLIC: Principal = keyPrincipal('anonymous', 'user', 'anonymous');
const REALM = 'portal-bridge';

/**
 * Who is calling: on a route that takes tickets, a stream ticket in `?ticket=` when no credential
 * header is sent (it acts as the principal that asked for it); otherwise the request's credentials.
 */
async function authenticate(request: HttpRequest, services: Services, access: Access): Promise<Principal> {
  if (access === 'public') return PUBLIC;
  const apiKey = request.headers.get('x-api-key');
  const authorization = request.headers.get('authorization');
  const ticket = access.tickets && !apiKey && !authorization ? request.query.get('ticket') : null;
  if (ticket) {
    const principal = services.streamTickets.verify(ticket);
    if (!principal) throw unauthorized('The stream ticket is not valid or has expired; ask for a new one.');
    return principal;
  }
  return services.identity.authenticate({ apiKey, authorization });
}

/** The route's rate-limit class: declared, or `read` for GET and `write` otherwise. */
export function rateClassOf(methods: readonly HttpMethod[], access: Access): RateClass | undefined {
  if (access === 'public') return undefined;
  return access.rateClass ?? (methods.every((m) => m === 'GET' || m === 'HEAD') ? 'read' : 'write');
}

/** RFC 6750 §3: a challenge's quoted-string may not carry `"` or `\`. */
const quoted = (text: string) => `"${text.replace(/["\\]/g, "'")}"`;

/** 401 (400 for two credentials at once) naming why, with the challenges the bridge accepts. */
function authenticationProblem(error: AuthenticationError, tokensEnabled: boolean): HttpResponseInit {
  const ambiguous = error.reason === 'ambiguous-credentials';
  const challenges: string[] = [];
  if (error.scheme === 'bearer') {
    const code = ambiguous ? 'invalid_request' : 'invalid_token';
    challenges.push(`Bearer realm="${REALM}", error="${code}", error_description=${quoted(error.message)}`);
  } else {
    challenges.push('ApiKey header="x-api-key"');
    if (tokensEnabled) challenges.push(`Bearer realm="${REALM}"`);
  }
  return problem(
    {
      status: ambiguous ? 400 : 401,
      type: ambiguous ? 'ambiguous-credentials' : 'unauthorized',
      title: ambiguous ? 'Two credentials' : 'Unauthorized',
      detail: error.message,
      reason: error.reason,
    },
    { 'www-authenticate': challenges.join(', ') },
  );
}

/** Maps anything a handler throws to a problem+json response; 5xx only for the server's own faults. */
export function toProblemResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof ProblemError) return problem(error.problem, error.headers);
  if (error instanceof AuthenticationError) {
    let tokensEnabled = false;
    try {
      tokensEnabled = getServices().identity.tokensEnabled;
    } catch {
      // Configuration failed: the challenge just omits Bearer.
    }
    return authenticationProblem(error, tokensEnabled);
  }
  if (error instanceof RateLimitExceededError) {
    return problem(
      {
        status: 429,
        type: 'rate-limited',
        title: 'Too many requests',
        detail: error.message,
        rateClass: error.rateClass,
        limit: error.rule.points,
        windowSeconds: error.rule.durationSeconds,
        retryAfterSeconds: error.retryAfterSeconds,
      },
      error.headers,
    );
  }
  if (error instanceof TokenVerifierUnavailableError) {
    context.warn(`token verification unavailable: ${error.message}`);
    return problem(
      {
        status: 503,
        type: 'token-verification-unavailable',
        title: 'Tokens cannot be checked right now',
        detail: "The token issuer's keys could not be fetched; retry shortly (API keys still work).",
      },
      { 'retry-after': '5' },
    );
  }
  if (error instanceof ServiceError) {
    const [status, title] = SERVICE_ERROR_STATUS[error.kind];
    const retryAfter = error.hints.retryAfterSeconds;
    return problem(
      {
        status,
        type: error.kind,
        title,
        detail: error.message,
        ...(error.errors ? { errors: error.errors } : {}),
      },
      retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : undefined,
    );
  }
  if (error instanceof ConfigError) {
    context.error(error.message);
    return problem({
      status: 500,
      type: 'configuration',
      title: 'The bridge is misconfigured',
      detail: error.message,
    });
  }
  if (isStoreError(error, 'throttled') || isStoreError(error, 'unavailable')) {
    const retryAfter = Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000));
    context.warn(`store ${error.code}: ${error.message}`);
    return problem(
      {
        status: 503,
        type: 'store-unavailable',
        title: 'Storage is busy or unavailable',
        detail: 'Retry the request shortly.',
      },
      { 'retry-after': String(retryAfter) },
    );
  }
  context.error('unhandled error', error);
  try {
    getServices().telemetry.trackException(error, {
      functionName: context.functionName,
      invocationId: context.invocationId,
    });
  } catch {
    // Telemetry must never turn a 500 into a crash (e.g. when configuration itself failed).
  }
  return problem({
    status: 500,
    type: 'internal',
    title: 'Internal error',
    detail: `The bridge failed to handle the request; invocation ${context.invocationId}.`,
  });
}

/** The response with extra headers (which it does not set itself). */
function withHeaders(response: HttpResponseInit, extra: Record<string, string>): HttpResponseInit {
  if (Object.keys(extra).length === 0) return response;
  const headers = new Headers(response.headers as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(extra)) if (!headers.has(name)) headers.set(name, value);
  return { ...response, headers: Object.fromEntries(headers.entries()) };
}

/** Path or query values checked against a schema; a 400 naming each bad parameter otherwise. */
function parseParameters<S extends ObjectSchema>(schema: S, values: Record<string, string>): z.output<S> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(parameters)',
    message: issue.message,
  }));
  throw validationProblem(errors, `Invalid ${[...new Set(errors.map((e) => e.path))].join(', ')}.`);
}

/** The query string as an object: the first value of each name; prototype-reaching names are dropped. */
function queryValues(request: HttpRequest): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of request.query) {
    if (!RESERVED_KEYS.has(name) && !Object.hasOwn(values, name)) values[name] = value;
  }
  return values;
}

function pathValues(request: HttpRequest): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.params ?? {})) {
    if (!RESERVED_KEYS.has(name)) values[name] = value;
  }
  return values;
}

const isZod = (body: z.ZodType | RawBody | undefined): body is z.ZodType =>
  body !== undefined && !('kind' in body && body.kind === 'raw');

/**
 * Declares an HTTP route (see RouteDefinition): registers it with `app.http` and the route
 * registry, and returns the wrapped handler, which in order authenticates and checks the role,
 * validates path parameters, the query and the JSON body, calls the handler, and maps whatever is
 * thrown to a problem response.
 */
export function route<
  P extends ObjectSchema | undefined = undefined,
  Q extends ObjectSchema | undefined = undefined,
  B extends z.ZodType | RawBody | undefined = undefined,
>(name: string, definition: RouteDefinition<P, Q, B>): HttpHandler {
  const { params, query, body, access } = definition;
  const jsonBody = isZod(body) ? body : undefined;
  recordRoute({
    name,
    methods: definition.methods,
    route: definition.route,
    access,
    ...(params ? { params } : {}),
    ...(query ? { query } : {}),
    ...(jsonBody ? { body: jsonBody } : {}),
    bodyKind: jsonBody ? 'json' : body ? 'raw' : 'none',
    bodyOptional: definition.bodyOptional ?? false,
    ...(body && !jsonBody ? { rawBody: body as RawBody } : {}),
    summary: definition.summary,
    tags: definition.tags,
    responses: definition.responses ?? {},
  });

  const rateClass = rateClassOf(definition.methods, access);
  const handler: HttpHandler = async (request, context) => {
    let principal: Principal | undefined;
    let limitHeaders: Record<string, string> = {};
    let services: Services | undefined;
    let response: HttpResponseInit;
    try {
      const started = performance.now();
      services = getServices();
      const caller = await authenticate(request, services, access);
      principal = caller;
      if (access !== 'public') {
        const denial = routeDenial(caller, access);
        if (denial) {
          throw new ProblemError({
            status: 403,
            type: 'forbidden',
            title: 'Forbidden',
            detail: denial.detail,
            reason: denial.reason,
            ...(denial.requiredScope ? { requiredScope: denial.requiredScope } : {}),
          });
        }
      }
      const bound = services;
      // Telemetry emitted while handling carries the invocation's operation id.
      const operation = operationFromTraceParent(context.traceContext?.traceParent);
      response = await runWithTelemetryOperation(operation, async () => {
        let input;
        try {
          input = {
            params: params ? parseParameters(params, pathValues(request)) : undefined,
            query: query ? parseParameters(query, queryValues(request)) : undefined,
            body: jsonBody
              ? await readJsonBody(request, jsonBody, bound.config.http.maxBodyBytes, {
                  allowEmpty: definition.bodyOptional ?? false,
                })
              : undefined,
          };
        } catch (error) {
          definition.onRejectedInput?.(bound, performance.now() - started);
          throw error;
        }
        // Counted once the input is valid: a request refused for its input costs nothing and
        // changes nothing; whatever reaches the handler counts, whatever its answer.
        if (rateClass) limitHeaders = await bound.rateLimits.consume(caller, rateClass);
        // The casts tie each parsed value to its schema's output type (undefined when not declared).
        return definition.handler({
          request,
          context,
          services: bound,
          principal: caller,
          params: input.params as Parsed<P>,
          query: input.query as Parsed<Q>,
          body: input.body as Parsed<B>,
        });
      });
    } catch (error) {
      response = toProblemResponse(error, context);
    }
    if (access !== 'public' && principal && services) {
      // Usage is counted in memory (flushed periodically); limited responses carry the limit.
      services.usage.record(principalKey(principal), access.scope, response.status ?? 200);
      response = withHeaders(response, limitHeaders);
    }
    return response;
  };
  app.http(name, {
    methods: [...definition.methods],
    route: definition.route,
    authLevel: 'anonymous',
    handler,
  });
  return handler;
}
