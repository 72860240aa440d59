import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ConfigError } from '../config';
import { getServices, type Services } from '../container';
import { isStoreError } from '../ports/document-store';
import { operationFromTraceParent, runWithTelemetryOperation } from '../ports/telemetry';
import type { Principal, Role } from '../services/api-key-service';
import { ServiceError, type ServiceErrorKind } from '../services/errors';
import { problem } from './http-response';
import { ProblemError, forbidden, unauthorized } from './problem-error';

export interface RouteArgs {
  request: HttpRequest;
  context: InvocationContext;
  services: Services;
  principal: Principal;
}

export type Access = { roles: readonly Role[] } | 'public';

const SERVICE_ERROR_STATUS: Record<ServiceErrorKind, [number, string]> = {
  validation: [400, 'Validation failed'],
  'not-found': [404, 'Not found'],
  conflict: [409, 'Conflict'],
  'precondition-failed': [412, 'Precondition failed'],
  'payload-too-large': [413, 'Payload too large'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'payment-required': [402, 'Payment required'],
  unavailable: [503, 'Service unavailable'],
};

const PUBLIC: Principal = { keyId: 'anonymous', role: 'user', name: 'anonymous' };

async function authenticate(request: HttpRequest, services: Services, access: Access): Promise<Principal> {
  if (access === 'public') return PUBLIC;
  const presented = request.headers.get('x-api-key');
  if (!presented) throw unauthorized('Send an API key in the x-api-key header.');
  const principal = await services.apiKeys.authenticate(presented);
  if (!principal) throw unauthorized('The API key is not valid or has been revoked.');
  if (!access.roles.includes(principal.role)) {
    throw forbidden(`A ${principal.role} key may not do this; allowed roles: ${access.roles.join(', ')}.`);
  }
  return principal;
}

/** Maps anything a handler throws to a problem+json response; 5xx only for the server's own faults. */
export function toProblemResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof ProblemError) return problem(error.problem, error.headers);
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

/** Wraps a handler with authentication, role checks and error mapping. */
export function route(access: Access, handler: (args: RouteArgs) => Promise<HttpResponseInit>): HttpHandler {
  return async (request, context) => {
    try {
      const services = getServices();
      const principal = await authenticate(request, services, access);
      // Telemetry emitted while handling carries the invocation's operation id.
      const operation = operationFromTraceParent(context.traceContext?.traceParent);
      return await runWithTelemetryOperation(operation, () =>
        handler({ request, context, services, principal }),
      );
    } catch (error) {
      return toProblemResponse(error, context);
    }
  };
}
