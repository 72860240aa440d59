/**
 * The Bicep in infra/ checked as text (no Bicep compiler runs here): the declarations hang
 * together, the resources are the ones the design calls for, and everything is keyless.
 * `az bicep build --file infra/main.bicep` remains the real compile check (see README.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BRIDGE_CONTAINER_DEFINITION } from '../../../shared/adapters/azure/cosmos-document-store';
import { loadTriggerSettings } from '../../../shared/config';
import { BUS_TOPOLOGY, sqlFilterFor } from '../../../shared/domain/bus-topology';
import {
  declaration,
  elementBody,
  objectEntries,
  ofKind,
  paramDefault,
  parseBicep,
  prop,
  resources,
  stringLiteral,
  type BicepFile,
} from './bicep-text';
import { bicep, bicepFiles, busTopologyJson, infraDir, isoDurationMs, main, root } from './infra-files';

const allResources = bicepFiles.flatMap((file) => resources(file).map((r) => ({ ...r, file: file.rel })));
const ofType = (type: string) => allResources.filter((r) => r.type.split('@')[0] === type && !r.existing);
const one = (type: string) => {
  const found = ofType(type);
  expect(found.map((r) => `${r.file}:${r.symbol}`)).toHaveLength(1);
  return found[0] as (typeof found)[number];
};
const modules = ofKind(main, 'module');
const moduleFile = (target: string) => bicep(path.posix.normalize(target));

describe('infra/ layout (azd)', () => {
  it('azure.yaml deploys this project as a Function App service', () => {
    const yaml = fs.readFileSync(path.join(root, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^name: portal-bridge$/m);
    expect(yaml).toMatch(/^services:\n {2}api:\n(?: {4}.*\n)*? {4}project: \.$/m);
    expect(yaml).toMatch(/^ {4}host: function$/m);
    expect(yaml).toMatch(/^ {4}language: (ts|js)$/m);
    // infra/main.bicep is azd's default; nothing may point elsewhere.
    expect(yaml).not.toMatch(/^infra:/m);
  });

  it('main.bicep deploys at subscription scope and every module file it names exists and is used', () => {
    expect(main.code).toMatch(/^targetScope = 'subscription'$/m);
    const used = modules.map((m) => path.posix.normalize(m.target as string)).sort();
    const present = bicepFiles.filter((f) => f.rel.startsWith('modules/')).map((f) => f.rel);
    expect(used).toEqual([...present].sort());
  });

  it('main.parameters.json supplies the required parameters of main.bicep, and only declared ones', () => {
    const params = JSON.parse(fs.readFileSync(path.join(infraDir, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    const declared = ofKind(main, 'param');
    const required = declared.filter((p) => paramDefault(p) === undefined).map((p) => p.name);
    const given = Object.keys(params.parameters);
    expect(given.filter((g) => !declared.some((p) => p.name === g))).toEqual([]);
    expect(required.filter((r) => !given.includes(r))).toEqual([]);
    // azd fills the required ones from its environment.
    for (const name of required) expect(params.parameters[name]?.value).toMatch(/^\$\{[A-Z_]+\}$/);
  });

  it('the admin key parameter is secure and at least as long as config.ts demands', () => {
    for (const file of [main, bicep('modules/keyvault.bicep')]) {
      const p = ofKind(file, 'param').find((d) => d.name === 'bridgeAdminKey');
      expect(p?.decorators).toEqual(expect.arrayContaining(['@secure()', '@minLength(24)']));
    }
  });
});

describe('declarations hang together (what the Bicep compiler would reject)', () => {
  it.each(modules.map((m) => [m.name, m] as const))('module %s gets exactly its parameters', (_name, m) => {
    const target = moduleFile(m.target as string);
    const paramsBlock = prop(m.body as string, 'params');
    expect(paramsBlock).toBeDefined();
    const given = objectEntries(paramsBlock as string).map((e) => e.key);
    const declared = ofKind(target, 'param');
    const required = declared.filter((p) => paramDefault(p) === undefined).map((p) => p.name);
    expect(given.filter((g) => !declared.some((p) => p.name === g))).toEqual([]);
    expect(required.filter((r) => !given.includes(r))).toEqual([]);
  });

  it('every module output main.bicep reads exists', () => {
    const missing: string[] = [];
    for (const m of main.code.matchAll(/\b(\w+)\.outputs\.(\w+)/g)) {
      const mod = modules.find((x) => x.name === m[1]);
      if (!mod) {
        missing.push(`${m[1]} is not a module`);
        continue;
      }
      if (!ofKind(moduleFile(mod.target as string), 'output').some((o) => o.name === m[2]))
        missing.push(m[0]);
    }
    expect(missing).toEqual([]);
  });

  it.each(bicepFiles.map((f) => [f.rel, f] as const))(
    '%s uses every param and var it declares',
    (_rel, file) => {
      const unused = file.declarations
        .filter((d) => d.kind === 'param' || d.kind === 'var')
        .filter((d) => {
          const uses = file.code.match(new RegExp(`(?<![\\w.'])${d.name}\\b`, 'g')) ?? [];
          return uses.length < 2; // the declaration itself is one
        })
        .map((d) => d.name);
      expect(unused).toEqual([]);
    },
  );

  it.each(bicepFiles.map((f) => [f.rel, f] as const))(
    '%s names every output in UPPER_SNAKE',
    (_rel, file) => {
      const outputs = ofKind(file, 'output').map((o) => o.name);
      expect(outputs.filter((o) => !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/.test(o))).toEqual([]);
    },
  );

  it('brackets balance in every file', () => {
    const depths = bicepFiles.map((file) => {
      let depth = 0;
      let lowest = 0;
      for (const c of file.code.replace(/'''[\s\S]*?'''|'(?:[^'\\]|\\.)*'/g, "''")) {
        if ('{[('.includes(c)) depth++;
        else if ('}])'.includes(c)) lowest = Math.min(lowest, --depth);
      }
      return [file.rel, depth, lowest];
    });
    expect(depths).toEqual(bicepFiles.map((f) => [f.rel, 0, 0]));
  });
});

describe('resources', () => {
  // One api-version per resource type across all files; these are the stable versions the
  // templates were written against (Azure Resource Manager template reference).
  const expected: Record<string, string> = {
    'Microsoft.Resources/resourceGroups': '2022-09-01',
    'Microsoft.ManagedIdentity/userAssignedIdentities': '2023-01-31',
    'Microsoft.OperationalInsights/workspaces': '2023-09-01',
    'Microsoft.Insights/components': '2020-02-02',
    'Microsoft.Storage/storageAccounts': '2023-05-01',
    'Microsoft.Storage/storageAccounts/blobServices': '2023-05-01',
    'Microsoft.Storage/storageAccounts/blobServices/containers': '2023-05-01',
    'Microsoft.DocumentDB/databaseAccounts': '2024-05-15',
    'Microsoft.DocumentDB/databaseAccounts/sqlDatabases': '2024-05-15',
    'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers': '2024-05-15',
    'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments': '2024-05-15',
    'Microsoft.ServiceBus/namespaces': '2024-01-01',
    'Microsoft.ServiceBus/namespaces/topics': '2024-01-01',
    'Microsoft.ServiceBus/namespaces/topics/subscriptions': '2024-01-01',
    'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules': '2024-01-01',
    'Microsoft.ServiceBus/namespaces/queues': '2024-01-01',
    'Microsoft.KeyVault/vaults': '2023-07-01',
    'Microsoft.KeyVault/vaults/secrets': '2023-07-01',
    'Microsoft.Web/serverfarms': '2024-04-01',
    'Microsoft.Web/sites': '2024-04-01',
    'Microsoft.Authorization/roleAssignments': '2022-04-01',
    'Microsoft.SignalRService/webPubSub': '2024-03-01',
    'Microsoft.SignalRService/webPubSub/hubs': '2024-03-01',
  };

  it('are exactly the expected types, each at its expected api-version', () => {
    const typed = allResources.filter((r) => r.type.includes('@'));
    const seen = new Map<string, Set<string>>();
    for (const r of typed) {
      const [type, version] = r.type.split('@') as [string, string];
      seen.set(type, (seen.get(type) ?? new Set()).add(version));
    }
    expect(Object.fromEntries([...seen].map(([t, v]) => [t, [...v].join(',')]))).toEqual(expected);
    // Nested children declared with a relative type inherit their parent's version.
    for (const r of allResources.filter((x) => !x.type.includes('@'))) expect(r.existing).toBe(true);
  });

  it('one user-assigned identity, and nothing uses a system-assigned one', () => {
    one('Microsoft.ManagedIdentity/userAssignedIdentities');
    for (const file of bicepFiles) expect(file.code).not.toMatch(/SystemAssigned/);
  });

  it('are keyless: no keys, SAS or connection strings are read or written anywhere', () => {
    for (const file of bicepFiles) {
      // The one connection string allowed is Application Insights': it holds no secret (with local
      // auth off, ingestion needs an Entra token).
      const code = file.code.replaceAll('applicationInsights.properties.ConnectionString', '');
      const found = code.match(
        /listKeys|listConnectionStrings|AccountKey|SharedAccessKey|ConnectionString|primaryKey|masterKey/gi,
      );
      expect([file.rel, found]).toEqual([file.rel, null]);
    }
  });

  it('Storage: shared keys and public blob access off; the deployment and files containers exist', () => {
    const storage = one('Microsoft.Storage/storageAccounts');
    expect(prop(storage.body, 'properties', 'allowSharedKeyAccess')).toBe('false');
    expect(prop(storage.body, 'properties', 'allowBlobPublicAccess')).toBe('false');
    expect(prop(storage.body, 'properties', 'minimumTlsVersion')).toBe("'TLS1_2'");
    const containers = ofType('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(containers.map((c) => prop(c.body, 'name')).sort()).toEqual([
      'deploymentContainerName',
      'filesContainerName',
    ]);
  });

  it('Cosmos DB: local auth off; the database, the state container (/pk, TTL on) and the lease container exist', () => {
    const account = one('Microsoft.DocumentDB/databaseAccounts');
    expect(prop(account.body, 'properties', 'disableLocalAuth')).toBe('true');
    expect(prop(account.body, 'properties', 'disableKeyBasedMetadataWriteAccess')).toBe('true');
    one('Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
    const containers = ofType('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
    const byName = new Map(containers.map((c) => [prop(c.body, 'name'), c.body]));
    expect([...byName.keys()].sort()).toEqual(['leaseContainerName', 'stateContainerName']);
    const state = byName.get('stateContainerName') as string;
    expect(prop(state, 'properties', 'resource', 'partitionKey', 'paths')?.replace(/\s+/g, '')).toBe(
      "['/pk']",
    );
    expect(prop(state, 'properties', 'resource', 'defaultTtl')).toBe('-1');
    const lease = byName.get('leaseContainerName') as string;
    expect(prop(lease, 'properties', 'resource', 'partitionKey', 'paths')?.replace(/\s+/g, '')).toBe(
      "['/id']",
    );
  });

  it('Cosmos DB: the state container matches the store adapter (BRIDGE_CONTAINER_DEFINITION)', () => {
    const state = ofType('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers').find(
      (c) => prop(c.body, 'name') === 'stateContainerName',
    )?.body as string;
    const resource = prop(state, 'properties', 'resource') as string;
    const paths = (text: string | undefined) => [...(text ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(paths(prop(resource, 'partitionKey', 'paths'))).toEqual(
      BRIDGE_CONTAINER_DEFINITION.partitionKey.paths,
    );
    expect(Number(prop(resource, 'defaultTtl'))).toBe(BRIDGE_CONTAINER_DEFINITION.defaultTtl);
    const composite = prop(resource, 'indexingPolicy', 'compositeIndexes') ?? '';
    const bicepIndexes = [...composite.matchAll(/path: '([^']+)'\s+order: '(\w+)'/g)].map((m) => ({
      path: m[1],
      order: m[2],
    }));
    expect(bicepIndexes).toEqual(BRIDGE_CONTAINER_DEFINITION.indexingPolicy.compositeIndexes.flat());
  });

  it('Cosmos DB names default to the ones config.ts and the change-feed trigger use', () => {
    const defaults = loadTriggerSettings({});
    const def = (name: string) => {
      const p = ofKind(main, 'param').find((d) => d.name === name);
      return p && stringLiteral(paramDefault(p) ?? '');
    };
    expect(def('cosmosDatabaseName')).toBe(defaults.COSMOS_DATABASE);
    expect(def('cosmosContainerName')).toBe(defaults.COSMOS_CONTAINER);
    expect(def('cosmosLeaseContainerName')).toBe(defaults.COSMOS_LEASE_CONTAINER);
  });

  it('Service Bus: local (SAS) auth off, Standard tier (topics)', () => {
    const ns = one('Microsoft.ServiceBus/namespaces');
    expect(prop(ns.body, 'properties', 'disableLocalAuth')).toBe('true');
    expect(prop(ns.body, 'sku', 'name')).toBe("'Standard'");
  });

  it('Key Vault: RBAC mode, the admin key secret', () => {
    const vault = one('Microsoft.KeyVault/vaults');
    expect(prop(vault.body, 'properties', 'enableRbacAuthorization')).toBe('true');
    expect(vault.body).not.toMatch(/accessPolicies/);
    const secret = one('Microsoft.KeyVault/vaults/secrets');
    expect(prop(secret.body, 'properties', 'value')).toBe('bridgeAdminKey');
  });

  it('Web PubSub: local (access key) auth off, Entra auth on, a hub that refuses anonymous clients', () => {
    const wps = one('Microsoft.SignalRService/webPubSub');
    expect(prop(wps.body, 'properties', 'disableLocalAuth')).toBe('true');
    expect(prop(wps.body, 'properties', 'disableAadAuth')).toBe('false');
    const hub = one('Microsoft.SignalRService/webPubSub/hubs');
    expect(prop(hub.body, 'name')).toBe('hubName');
    expect(prop(hub.body, 'properties', 'anonymousConnectPolicy')).toBe("'deny'");
    // The hub the app pushes to is the one provisioned, and defaults to config.ts's default.
    expect(main.code).toMatch(/param webPubSubHubName string = 'bridge'/);
    expect(main.code).toMatch(/webPubSubHubName: webPubSub\.outputs\.HUB/);
  });

  it('Log Analytics + Application Insights with local auth off', () => {
    one('Microsoft.OperationalInsights/workspaces');
    const appInsights = one('Microsoft.Insights/components');
    expect(prop(appInsights.body, 'properties', 'DisableLocalAuth')).toBe('true');
    expect(prop(appInsights.body, 'properties', 'WorkspaceResourceId')).toMatch(/\.id$/);
  });

  it('Function App: Flex Consumption, Node 22, identity-based deployment storage, one identity', () => {
    const plan = one('Microsoft.Web/serverfarms');
    expect(prop(plan.body, 'sku', 'tier')).toBe("'FlexConsumption'");
    expect(prop(plan.body, 'sku', 'name')).toBe("'FC1'");
    expect(prop(plan.body, 'properties', 'reserved')).toBe('true');
    const site = one('Microsoft.Web/sites');
    expect(prop(site.body, 'kind')).toBe("'functionapp,linux'");
    expect(prop(site.body, 'identity', 'type')).toBe("'UserAssigned'");
    expect(prop(site.body, 'properties', 'keyVaultReferenceIdentity')).toBe('identityId');
    expect(prop(site.body, 'properties', 'httpsOnly')).toBe('true');
    const config = prop(site.body, 'properties', 'functionAppConfig') as string;
    expect(prop(config, 'runtime', 'name')).toBe("'node'");
    expect(prop(config, 'runtime', 'version')).toBe("'22'");
    expect(prop(config, 'deployment', 'storage', 'type')).toBe("'blobContainer'");
    expect(prop(config, 'deployment', 'storage', 'authentication', 'type')).toBe("'UserAssignedIdentity'");
    expect(prop(config, 'deployment', 'storage', 'authentication', 'userAssignedIdentityResourceId')).toBe(
      'identityId',
    );
    expect(prop(config, 'scaleAndConcurrency', 'instanceMemoryMB')).toBeDefined();
    // Every app setting comes from the one appSettings object (see settings-agreement.test.ts).
    expect(prop(site.body, 'properties', 'siteConfig', 'appSettings')).toMatch(
      /^\[\s*for \w+ in items\(appSettings\)/,
    );
    // azd finds the app by this tag; azure.yaml names the service `api`.
    expect(prop(site.body, 'tags')).toMatch(/'azd-service-name': 'api'/);
  });
});

describe('Service Bus entities are exactly BUS_TOPOLOGY (shared/domain/bus-topology.ts)', () => {
  const sb = bicep('modules/servicebus.bicep');

  it('bus-topology.json equals BUS_TOPOLOGY, with sqlFilterFor() as each subscription rule', () => {
    expect(busTopologyJson.topics.map((t) => t.name)).toEqual(BUS_TOPOLOGY.topics.map((t) => t.name));
    expect(busTopologyJson.subscriptions).toEqual(
      BUS_TOPOLOGY.topics.flatMap((t) =>
        t.subscriptions.map((s) => ({
          topic: t.name,
          name: s.name,
          maxDeliveryCount: s.maxDeliveryCount,
          sqlFilter: sqlFilterFor(s),
        })),
      ),
    );
    expect(busTopologyJson.queues).toEqual(
      BUS_TOPOLOGY.queues.map((q) => ({ name: q.name, maxDeliveryCount: q.maxDeliveryCount })),
    );
    expect(isoDurationMs(busTopologyJson.duplicateDetectionHistoryTimeWindow)).toBe(
      BUS_TOPOLOGY.duplicateDetectionWindowMs,
    );
  });

  it('servicebus.bicep provisions every entry of bus-topology.json and nothing else', () => {
    expect(sb.code).toMatch(/var topology = loadJsonContent\('\.\.\/bus-topology\.json'\)/);
    const loops: Record<string, string> = {
      'Microsoft.ServiceBus/namespaces/topics': 'topology.topics',
      'Microsoft.ServiceBus/namespaces/topics/subscriptions': 'topology.subscriptions',
      'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules': 'topology.subscriptions',
      'Microsoft.ServiceBus/namespaces/queues': 'topology.queues',
    };
    for (const [type, source] of Object.entries(loops)) {
      const r = one(type);
      expect([type, r.body]).toEqual([
        type,
        expect.stringMatching(
          new RegExp(`^\\[\\s*for (\\w+|\\(\\w+, \\w+\\)) in ${source.replace('.', '\\.')}:`),
        ),
      ]);
    }
    const entityNames = (type: string) => prop(elementBody(one(type).body), 'name');
    expect(entityNames('Microsoft.ServiceBus/namespaces/topics')).toBe('topic.name');
    expect(entityNames('Microsoft.ServiceBus/namespaces/queues')).toBe('queue.name');
    expect(entityNames('Microsoft.ServiceBus/namespaces/topics/subscriptions')).toBe(
      "'${namespace.name}/${sub.topic}/${sub.name}'",
    );
  });

  it('topic and queues detect duplicates over the topology window; subscriptions and queues dead-letter', () => {
    const window = 'topology.duplicateDetectionHistoryTimeWindow';
    for (const type of ['Microsoft.ServiceBus/namespaces/topics', 'Microsoft.ServiceBus/namespaces/queues']) {
      const body = elementBody(one(type).body);
      expect([type, prop(body, 'properties', 'requiresDuplicateDetection')]).toEqual([type, 'true']);
      expect([type, prop(body, 'properties', 'duplicateDetectionHistoryTimeWindow')]).toEqual([type, window]);
    }
    for (const type of [
      'Microsoft.ServiceBus/namespaces/topics/subscriptions',
      'Microsoft.ServiceBus/namespaces/queues',
    ]) {
      const body = elementBody(one(type).body);
      expect([type, prop(body, 'properties', 'maxDeliveryCount')]).toEqual([
        type,
        expect.stringMatching(/^\w+\.maxDeliveryCount$/),
      ]);
      expect([type, prop(body, 'properties', 'deadLetteringOnMessageExpiration')]).toEqual([type, 'true']);
    }
  });

  it('each subscription has one SQL rule with its filter from the topology', () => {
    const rule = elementBody(one('Microsoft.ServiceBus/namespaces/topics/subscriptions/rules').body);
    expect(prop(rule, 'parent')).toBe('topicSubscriptions[i]');
    expect(prop(rule, 'properties', 'filterType')).toBe("'SqlFilter'");
    expect(prop(rule, 'properties', 'sqlFilter', 'sqlExpression')).toBe('sub.sqlFilter');
  });
});

describe('rbac.bicep: least privilege, one place, stable names', () => {
  const rbac = bicep('modules/rbac.bicep');
  // Built-in role ids, checked against the Azure built-in roles reference.
  const ROLE_IDS: Record<string, string> = {
    storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
    serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
    serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
    keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
    monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
    webPubSubServiceOwner: '12cf5a90-567b-43ae-8102-96cf46c7d9b4',
  };
  // What each role is granted on (the symbol of the scope resource in rbac.bicep).
  const SCOPES: Record<string, string> = {
    storageBlobDataOwner: 'storage',
    storageBlobDataContributor: 'storage::blobService::filesContainer',
    serviceBusDataSender: 'serviceBus',
    serviceBusDataReceiver: 'serviceBus',
    keyVaultSecretsOfficer: 'vault',
    monitoringMetricsPublisher: 'applicationInsights',
    webPubSubServiceOwner: 'webPubSub',
  };

  it('role assignments exist only in rbac.bicep', () => {
    const elsewhere = allResources.filter(
      (r) => /roleAssignments/i.test(r.type) && r.file !== 'modules/rbac.bicep',
    );
    expect(elsewhere.map((r) => `${r.file}:${r.symbol}`)).toEqual([]);
  });

  it('the role ids are the built-in ones, and no broad role (Owner, Contributor, data owner/admin) appears', () => {
    const block = declaration(rbac, 'var', 'roles').body as string;
    const declared = Object.fromEntries(
      [...block.matchAll(/^\s*(\w+): '([0-9a-f-]{36})'/gm)].map((m) => [m[1], m[2]]),
    );
    expect(declared).toEqual(ROLE_IDS);
    const broad = [
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', // Owner
      'b24988ac-6180-42a0-ab88-20f7382dd24c', // Contributor
      '090c5cfd-751d-490a-894a-3ce6f1109419', // Azure Service Bus Data Owner
      '00482a5a-887f-4fb3-b363-3b7fe8e74483', // Key Vault Administrator
      '00000000-0000-0000-0000-000000000001', // Cosmos DB Built-in Data Reader (not needed)
    ];
    for (const file of bicepFiles)
      for (const id of broad) expect([file.rel, file.code.includes(id)]).toEqual([file.rel, false]);
  });

  it('every role assignment is named guid(scope, principal, role), scoped to that resource, for the service principal', () => {
    const assignments = resources(rbac).filter((r) =>
      r.type.startsWith('Microsoft.Authorization/roleAssignments@'),
    );
    const granted: string[] = [];
    for (const a of assignments) {
      const name = prop(a.body, 'name') as string;
      const m = /^guid\(([\w:]+)\.id, principalId, roles\.(\w+)\)$/.exec(name);
      expect([a.symbol, name]).toEqual([a.symbol, expect.stringMatching(/^guid\(/)]);
      expect(m).not.toBeNull();
      const [, scope, role] = m as unknown as [string, string, string];
      expect([a.symbol, scope]).toEqual([a.symbol, SCOPES[role]]);
      expect(prop(a.body, 'scope')).toBe(scope);
      expect(prop(a.body, 'properties', 'principalId')).toBe('principalId');
      expect(prop(a.body, 'properties', 'principalType')).toBe("'ServicePrincipal'");
      expect(prop(a.body, 'properties', 'roleDefinitionId')).toBe(
        `subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.${role})`,
      );
      granted.push(role);
    }
    expect(granted.sort()).toEqual(Object.keys(ROLE_IDS).sort());
  });

  it('Cosmos DB data access is the built-in Data Contributor SQL role, named guid(scope, principal, role)', () => {
    expect(rbac.code).toMatch(/var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'/);
    const [assignment, ...more] = resources(rbac).filter((r) =>
      r.type.startsWith('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@'),
    );
    expect(more).toEqual([]);
    const body = (assignment as { body: string }).body;
    expect(prop(body, 'name')).toBe('guid(cosmos.id, principalId, cosmosDataContributor)');
    expect(prop(body, 'properties', 'roleDefinitionId')).toBe(
      "'${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'",
    );
    expect(prop(body, 'properties', 'scope')).toBe('cosmos.id');
    expect(prop(body, 'properties', 'principalId')).toBe('principalId');
  });

  it('the identity gets its roles before the Function App starts', () => {
    const fn = modules.find((m) => m.target === 'modules/functionapp.bicep');
    expect(prop(fn?.body as string, 'dependsOn')?.replace(/\s+/g, '')).toBe('[rbac]');
    const rbacModule = modules.find((m) => m.target === 'modules/rbac.bicep');
    expect(prop(rbacModule?.body as string, 'params', 'principalId')).toBe('identity.outputs.PRINCIPAL_ID');
  });
});

// Keep the helper honest: a broken template must fail these tests, not pass them silently.
describe('the text parser behind these tests', () => {
  const broken = (file: BicepFile, from: string, to: string): BicepFile => {
    const text = file.text.replace(from, to);
    expect(text).not.toBe(file.text);
    return parseBicep(file.rel, text);
  };

  it('sees a flipped allowSharedKeyAccess', () => {
    const file = broken(
      bicep('modules/storage.bicep'),
      'allowSharedKeyAccess: false',
      'allowSharedKeyAccess: true',
    );
    const storage = resources(file).find((r) => r.type.startsWith('Microsoft.Storage/storageAccounts@'));
    expect(prop(storage?.body as string, 'properties', 'allowSharedKeyAccess')).toBe('true');
  });

  it('ignores commented-out code and sees through strings containing // and braces', () => {
    const file = broken(
      bicep('modules/cosmos.bicep'),
      'disableLocalAuth: true',
      "// disableLocalAuth: true\n    note: '// { not a brace'",
    );
    const account = resources(file).find((r) => r.type.startsWith('Microsoft.DocumentDB/databaseAccounts@'));
    expect(prop(account?.body as string, 'properties', 'disableLocalAuth')).toBeUndefined();
    expect(prop(account?.body as string, 'properties', 'note')).toBe("'// { not a brace'");
  });
});
