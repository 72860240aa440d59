import { isSqliteError } from './group-commit';

/** The subset of @azure/service-bus's ServiceBusErrorCode the embedded bus produces. */
export type EmbeddedBusErrorCode =
  | 'MessagingEntityNotFound'
  | 'MessageLockLost'
  | 'MessageNotFound'
  | 'MessageSizeExceeded'
  | 'ServiceBusy'
  | 'GeneralError';

/** Shaped like @azure/service-bus's ServiceBusError (`code`, `retryable`). */
export class EmbeddedBusError extends Error {
  override readonly name = 'ServiceBusError';
  constructor(
    readonly code: EmbeddedBusErrorCode,
    message: string,
    readonly retryable = code === 'ServiceBusy',
  ) {
    super(message);
  }
}

export function isEmbeddedBusError(error: unknown, code?: EmbeddedBusErrorCode): error is EmbeddedBusError {
  return error instanceof EmbeddedBusError && (code === undefined || error.code === code);
}

export const LOCK_LOST =
  'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.';

export function lockLost(): EmbeddedBusError {
  return new EmbeddedBusError('MessageLockLost', LOCK_LOST);
}

/** SQLite failures as EmbeddedBusErrors, so callers never see driver errors; anything else unchanged. */
export function toBusError(error: unknown): unknown {
  if (!isSqliteError(error)) return error;
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new EmbeddedBusError('ServiceBusy', `the bus database is busy: ${error.message}`);
  }
  return new EmbeddedBusError('GeneralError', `${error.code}: ${error.message}`);
}
