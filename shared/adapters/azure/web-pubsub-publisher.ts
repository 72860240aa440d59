import type { TokenCredential } from '@azure/identity';
import { WebPubSubServiceClient, type WebPubSubServiceClientOptions } from '@azure/web-pubsub';
import type { Clock } from '../../ports/clock';
import type { RealtimeClientAccess, RealtimePublisher } from '../../ports/realtime-publisher';

export interface WebPubSubPublisherOptions {
  /** `https://<name>.webpubsub.azure.com` (WEBPUBSUB_ENDPOINT). */
  endpoint: string;
  /** The hub (BRIDGE_WEBPUBSUB_HUB). */
  hub: string;
  /** The managed identity in Azure: local auth is off, so tokens come from the service's REST API. */
  credential: TokenCredential;
  clock: Clock;
  clientOptions?: WebPubSubServiceClientOptions;
}

/** An OData string literal for Web PubSub's `filter` (a quote is doubled). */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * RealtimePublisher over Azure Web PubSub (@azure/web-pubsub). Client access tokens are generated
 * by the service (`:generateToken`, since the bridge holds no access key), with the groups the
 * client joins and no roles, so a client cannot join other groups or send. A message goes to every
 * connection in any of its groups with one `sendToAll` and an OData filter, so a connection in
 * two of them still gets it once.
 */
export class WebPubSubPublisher implements RealtimePublisher {
  private readonly client: WebPubSubServiceClient;

  constructor(private readonly options: WebPubSubPublisherOptions) {
    this.client = new WebPubSubServiceClient(
      options.endpoint,
      options.credential,
      options.hub,
      options.clientOptions,
    );
  }

  async clientAccess(request: {
    userId: string;
    groups: readonly string[];
    minutes: number;
  }): Promise<RealtimeClientAccess> {
    const expiresAt = new Date(this.options.clock.now() + request.minutes * 60_000).toISOString();
    const { url } = await this.client.getClientAccessToken({
      userId: request.userId,
      groups: [...request.groups],
      roles: [],
      expirationTimeInMinutes: request.minutes,
    });
    return { url, expiresAt };
  }

  async sendToGroups(groups: readonly string[], message: unknown): Promise<void> {
    if (groups.length === 0) return;
    await this.client.sendToAll(message as Record<string, unknown>, {
      filter: groups.map((g) => `${literal(g)} in groups`).join(' or '),
    });
  }

  async close(): Promise<void> {
    // The client holds no connections of its own (HTTPS requests through the shared pipeline).
  }
}
