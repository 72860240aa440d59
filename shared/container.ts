import type { BridgeConfig } from './config';
import { loadConfig } from './config';
import { openSqliteDocumentStore } from './adapters/embedded/sqlite-document-store';
import { systemClock, type Clock } from './ports/clock';
import type { DocumentStore } from './ports/document-store';
import { ApiKeyService } from './services/api-key-service';
import { HealthService } from './services/health-service';
import { StateService } from './services/state-service';
import { SyncMetrics } from './services/sync-metrics';
import { SyncService } from './services/sync-service';

/** The one container all bridge documents live in (the Cosmos container of the same name in Azure). */
export const STATE_CONTAINER = 'state';

export interface Services {
  config: BridgeConfig;
  clock: Clock;
  store: DocumentStore;
  apiKeys: ApiKeyService;
  sync: SyncService;
  syncMetrics: SyncMetrics;
  state: StateService;
  health: HealthService;
}

export interface Overrides {
  clock?: Clock;
  store?: DocumentStore;
}

/** Composition root: config → adapters → services. Builds every client exactly once. */
export function createServices(config: BridgeConfig, overrides: Overrides = {}): Services {
  const clock = overrides.clock ?? systemClock;
  const store =
    overrides.store ??
    openSqliteDocumentStore(config.store.dataDir, { durability: config.store.durability, clock });
  const syncMetrics = new SyncMetrics(clock);
  return {
    config,
    clock,
    store,
    syncMetrics,
    apiKeys: new ApiKeyService(store, STATE_CONTAINER, clock, config.adminKey, config.auth.cacheSeconds),
    sync: new SyncService(store, STATE_CONTAINER, clock, syncMetrics, config.sync),
    state: new StateService(store, STATE_CONTAINER, clock, config.sync.maxRetries),
    health: new HealthService(store, clock),
  };
}

let services: Services | undefined;

/** The worker's services, built on first use from process.env; a bad setting throws ConfigError naming it. */
export function getServices(): Services {
  services ??= createServices(loadConfig());
  return services;
}

/** For tests and the local host: use these services instead of building from process.env. */
export function setServices(next: Services | undefined): void {
  services = next;
}

export async function disposeServices(): Promise<void> {
  const current = services;
  services = undefined;
  await current?.store.close();
}
