import { loadConfig, type BridgeConfig } from './config';
import { buildAdapters, type Overrides } from './composition/adapters';
import { buildServices, type Services } from './composition/services';
import { Shutdown } from './composition/shutdown';

export type { Overrides } from './composition/adapters';
export type { Services } from './composition/services';

/**
 * The composition root: configuration → adapters (composition/adapters.ts) → services
 * (composition/services.ts), with one shutdown plan (composition/shutdown.ts) that every part
 * needing a close registered with as it was built. Builds every client exactly once.
 */
export function createServices(config: BridgeConfig, overrides: Overrides = {}): Services {
  const shutdown = new Shutdown();
  const adapters = buildAdapters(config, overrides, shutdown);
  return { ...buildServices(config, adapters, shutdown), close: () => shutdown.run() };
}

let services: Services | undefined;

/**
 * The worker's services, built on first use from process.env; a bad setting throws ConfigError
 * naming it. The worker's instance publishes its metrics snapshot for the others (tests that build
 * services themselves start it only when they need it).
 */
export function getServices(): Services {
  if (!services) {
    services = createServices(loadConfig());
    services.clusterMetrics.start();
  }
  return services;
}

/** For tests and the local host: use these services instead of building from process.env. */
export function setServices(next: Services | undefined): void {
  services = next;
}

export async function disposeServices(): Promise<void> {
  const current = services;
  services = undefined;
  await current?.close();
}
