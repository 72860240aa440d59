/**
 * RealtimePublisher: a push service that holds the clients' long-lived connections (Azure Web
 * PubSub), so that the bridge's instances do not have to. Connections join groups when they
 * connect; a message sent to groups reaches every connection in any of them, once.
 */
export interface RealtimeClientAccess {
  /** The WebSocket URL the client connects to (it carries a short-lived access token). */
  url: string;
  expiresAt: string;
}

export interface RealtimePublisher {
  /** Access for one client: it joins `groups` on connecting and may join or send nothing else. */
  clientAccess(options: {
    userId: string;
    groups: readonly string[];
    minutes: number;
  }): Promise<RealtimeClientAccess>;
  /** Sends a JSON message to every connection in any of `groups`, once each. */
  sendToGroups(groups: readonly string[], message: unknown): Promise<void>;
  close(): Promise<void>;
}
