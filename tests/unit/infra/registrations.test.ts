/**
 * Loads the function files under a stand-in for the worker that records each app.<trigger>(...)
 * call, and checks what the host will bind: one function per file, the right trigger, and trigger
 * options that match infra/. The sources are loaded (no build needed); that package.json "main" is
 * where tsc puts them is checked separately.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTriggerSettings } from '../../../shared/config';
import {
  BUS_TOPOLOGY,
  COMMANDS_QUEUE,
  EVENTS_TOPIC,
  REALTIME_SUBSCRIPTION,
  WEBHOOK_RETRY_QUEUE,
} from '../../../shared/domain/bus-topology';
import { packageMain, resolveMainFiles, type Registration } from '../../../local/function-registry';
import { SOURCE_MAIN, sourceRegistrations } from '../../helpers/source-registrations';
import { busTopologyJson, root } from './infra-files';

const sourceFunctions = fs
  .readdirSync(path.join(root, 'functions'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

let registrations: Registration[] = [];
beforeAll(() => {
  registrations = sourceRegistrations();
});
const byName = (name: string) => {
  const found = registrations.filter((r) => r.name === name);
  expect(found).toHaveLength(1);
  return found[0] as Registration;
};

/** Every non-HTTP function, with the trigger options the host must get. */
const TRIGGERS: Record<string, { trigger: string; options: Record<string, unknown> }> = {
  'events-changefeed': {
    trigger: 'cosmosDB',
    options: {
      connection: 'CosmosDbConnection',
      databaseName: '%COSMOS_DATABASE%',
      containerName: '%COSMOS_CONTAINER%',
      leaseContainerName: '%COSMOS_LEASE_CONTAINER%',
      // infra/ creates the lease container; the identity may not create containers anyway.
      createLeaseContainerIfNotExists: false,
      feedPollDelay: loadTriggerSettings().BRIDGE_FEED_POLL_DELAY_MS,
      maxItemsPerInvocation: loadTriggerSettings().BRIDGE_FEED_MAX_ITEMS,
    },
  },
  'commands-process': {
    trigger: 'serviceBusQueue',
    options: { connection: 'ServiceBusConnection', queueName: COMMANDS_QUEUE },
  },
  'webhooks-retry': {
    trigger: 'serviceBusQueue',
    options: { connection: 'ServiceBusConnection', queueName: WEBHOOK_RETRY_QUEUE },
  },
  'webhooks-deliver': {
    trigger: 'serviceBusTopic',
    options: { connection: 'ServiceBusConnection', topicName: EVENTS_TOPIC, subscriptionName: 'webhooks' },
  },
  'realtime-publish': {
    trigger: 'serviceBusTopic',
    options: {
      connection: 'ServiceBusConnection',
      topicName: EVENTS_TOPIC,
      subscriptionName: REALTIME_SUBSCRIPTION,
    },
  },
  'events-sweep': {
    trigger: 'timer',
    options: { schedule: loadTriggerSettings().BRIDGE_SWEEP_SCHEDULE },
  },
  'lockstep-monitor': {
    trigger: 'timer',
    options: { schedule: loadTriggerSettings().BRIDGE_LOCKSTEP_MONITOR_SCHEDULE },
  },
  'providers-check': {
    trigger: 'timer',
    options: { schedule: loadTriggerSettings().BRIDGE_PROVIDER_CHECK_SCHEDULE },
  },
};

describe('function registrations (package.json "main" under a stand-in worker)', () => {
  it('every function file registers exactly one function, named after the file', () => {
    expect(resolveMainFiles(root, SOURCE_MAIN).map((f) => path.basename(f, '.ts'))).toEqual(sourceFunctions);
    expect(registrations.map((r) => r.name).sort()).toEqual(sourceFunctions);
  });

  it('package.json "main" is where the build puts these files (functions/*.ts → <outDir>/functions/*.js)', () => {
    const readJson = (file: string) =>
      JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as {
        extends?: string;
        compilerOptions?: { outDir?: string; rootDir?: string };
        include?: string[];
      };
    const build = readJson('tsconfig.build.json');
    const base = build.extends ? readJson(build.extends) : {};
    const options = { ...base.compilerOptions, ...build.compilerOptions };
    expect(options.rootDir).toBe('.');
    expect(build.include ?? base.include).toContain('functions');
    expect(packageMain(root)).toBe(`${options.outDir}/functions/*.js`);
  });

  it('the non-HTTP functions are exactly the expected triggers with the expected binding options', () => {
    const nonHttp = registrations.filter((r) => r.trigger !== 'http');
    expect(nonHttp.map((r) => r.name).sort()).toEqual(Object.keys(TRIGGERS).sort());
    for (const [name, expected] of Object.entries(TRIGGERS)) {
      const r = byName(name);
      expect([name, r.trigger]).toEqual([name, expected.trigger]);
      expect([name, r.options]).toEqual([name, expect.objectContaining(expected.options)]);
      expect(typeof r.options.handler).toBe('function');
    }
  });

  it('the timer schedules are six-field NCRONTAB expressions', () => {
    for (const name of ['events-sweep', 'lockstep-monitor', 'providers-check'])
      expect(byName(name).options.schedule).toMatch(/^\S+( \S+){5}$/);
    // The monitors' defaults: the lockstep probe every minute, the provider check every 5 minutes.
    expect(byName('lockstep-monitor').options.schedule).toBe('0 * * * * *');
    expect(byName('providers-check').options.schedule).toBe('0 */5 * * * *');
  });

  it('Service Bus triggers listen on entities of BUS_TOPOLOGY that infra/ provisions', () => {
    const queues = new Set(busTopologyJson.queues.map((q) => q.name));
    const subs = new Set(busTopologyJson.subscriptions.map((s) => `${s.topic}/${s.name}`));
    for (const r of registrations) {
      if (r.trigger === 'serviceBusQueue') {
        expect(BUS_TOPOLOGY.queues.map((q) => q.name)).toContain(r.options.queueName);
        expect(queues.has(r.options.queueName as string)).toBe(true);
      }
      if (r.trigger === 'serviceBusTopic') {
        expect(subs.has(`${r.options.topicName as string}/${r.options.subscriptionName as string}`)).toBe(
          true,
        );
      }
    }
  });

  it('HTTP functions: anonymous at the host (the bridge checks x-api-key itself), one route per method', () => {
    const seen = new Set<string>();
    for (const r of registrations.filter((x) => x.trigger === 'http')) {
      expect([r.name, r.options.authLevel]).toEqual([r.name, 'anonymous']);
      expect([r.name, typeof r.options.route]).toEqual([r.name, 'string']);
      const methods = r.options.methods as string[] | undefined;
      expect([r.name, Array.isArray(methods) && methods.length > 0]).toEqual([r.name, true]);
      for (const method of methods ?? []) {
        const key = `${method} ${String(r.options.route).replace(/\{[^}]+\}/g, '{}')}`;
        expect([r.name, seen.has(key)]).toEqual([r.name, false]);
        seen.add(key);
      }
      expect(typeof r.options.handler).toBe('function');
    }
  });
});
