/** Sends one webhook request; the adapter enforces the address policy on every resolved address. */
export interface WebhookTransport {
  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<{ status: number }>;
}

export class WebhookTransportError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'refused-address',
  ) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}
