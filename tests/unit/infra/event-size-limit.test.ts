/**
 * BRIDGE_MAX_EVENT_BYTES fits the bus tier infra/ provisions: every event the bridge accepts must be
 * publishable, so the limit (the default in config.ts and the value Azure gets) stays below the
 * largest message of the Service Bus namespace's sku, with room for what travels besides the event.
 */
import { loadConfig } from '../../../shared/config';
import { prop, resources, stringLiteral } from './bicep-text';
import { appSettingEntries, bicep, functionAppModule, literalValue } from './infra-files';

/** Largest message per Service Bus tier (Premium's default; it can be raised per entity). */
const MAX_MESSAGE_BYTES: Record<string, number> = { Standard: 256 * 1024, Premium: 1024 * 1024 };
/** What travels with an event: application properties, broker headers, the webhook retry wrapper. */
const HEADROOM_BYTES = 8 * 1024;

const namespace = resources(bicep('modules/servicebus.bicep')).find(
  (r) => r.type.startsWith('Microsoft.ServiceBus/namespaces@') && !r.existing,
);
const sku = stringLiteral(prop(namespace?.body ?? '', 'sku', 'name') ?? '') ?? '';

test('the Service Bus namespace has a tier whose message limit is known', () => {
  expect(Object.keys(MAX_MESSAGE_BYTES)).toContain(sku);
});

test('the value Azure gets and the default both leave headroom under the tier limit', () => {
  const limit = (MAX_MESSAGE_BYTES[sku] ?? 0) - HEADROOM_BYTES;
  const provisioned = appSettingEntries().find((e) => e.key === 'BRIDGE_MAX_EVENT_BYTES');
  const azureValue = Number(literalValue(functionAppModule, provisioned?.value ?? ''));
  const defaultValue = loadConfig({ BRIDGE_ADMIN_KEY: 'k'.repeat(32) }).events.maxEventBytes;
  expect(azureValue).toBeGreaterThan(0);
  expect(azureValue).toBeLessThanOrEqual(limit);
  expect(defaultValue).toBeLessThanOrEqual(limit);
});
