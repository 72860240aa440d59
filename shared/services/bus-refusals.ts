/**
 * Why the bus refused a message for a reason of the message itself (resending it cannot help), or
 * undefined for anything else (busy, unreachable, misconfigured: worth retrying later). Matches the
 * embedded bus (TypeError for a malformed message, MessageSizeExceeded) and the Service Bus adapter
 * (MessageSendError with code MessageSizeExceeded).
 */
export function eventRefusalReason(error: unknown): string | undefined {
  if (error instanceof TypeError || error instanceof RangeError) return `malformed message: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'MessageSizeExceeded') return `too large for the bus: ${(error as Error).message}`;
  return undefined;
}
