/** Errors services raise for the caller's input or the state it met; the HTTP layer maps each kind to a status. */
export type ServiceErrorKind =
  | 'validation'
  | 'not-found'
  /** The caller may not act on this object (access-policy.ts). */
  | 'forbidden'
  | 'conflict'
  | 'precondition-failed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'payment-required'
  /** An Idempotency-Key sent again with a different request (or operation). */
  | 'idempotency-key-reused'
  | 'unavailable';

export interface FieldError {
  path: string;
  message: string;
}

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly errors?: FieldError[],
    /** For 'unavailable': when to try again (the HTTP layer sends it as Retry-After). */
    readonly hints: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
