/**
 * App settings agree across shared/config.ts, local.settings.example.json, README.md, the function
 * registrations and the one place infra/ sets them (`appSettings` in modules/functionapp.bicep):
 * every setting the code reads is documented and provisioned (or is local-only or for another
 * cloud, with a reason), and everything provisioned is read by someone (or is a documented
 * host/platform setting).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, SETTING_NAMES } from '../../../shared/config';
import type { Registration } from '../../../local/function-registry';
import { sourceRegistrations } from '../../helpers/source-registrations';
import { ofKind, paramDefault, stringLiteral } from './bicep-text';
import { appSettingEntries, bicepFiles, functionAppModule, literalValue, main, root } from './infra-files';

/** Settings config.ts reads that Azure must not get, and why. */
const LOCAL_ONLY: Record<string, string> = {
  PORT: 'the local host (npm start) listens on it; the Functions host has its own',
  BRIDGE_ACCESS_LOG:
    'request logging of the local host; in Azure the Functions host logs to Application Insights',
  BRIDGE_HTTP_HEADERS_TIMEOUT_MS:
    'header time limit of the local host; the Functions host has its own front end',
  BRIDGE_HTTP_BODY_TIMEOUT_MS: 'body time limit of the local host; the Functions host has its own front end',
  BRIDGE_DATA_DIR: 'directory of the embedded SQLite store and bus; Azure uses Cosmos DB and Service Bus',
  BRIDGE_DURABILITY: 'fsync policy of the embedded SQLite store; not used with BRIDGE_STORE=cosmos',
  ServiceBusConnection:
    'a connection string, for the Service Bus emulator only; Azure is keyless (ServiceBusConnection__*)',
  BRIDGE_FILES_CONNECTION_STRING:
    'a connection string, for Azurite only; Azure uses AZURE_STORAGE_BLOB_ENDPOINT + the identity',
  COSMOS_EMULATOR_KEY:
    'an account key, for the Cosmos DB emulator only; Azure is keyless (CosmosDbConnection__*)',
  BRIDGE_EVENT_TOPIC:
    'where the embedded bus keeps bridge-events (the outbox or bus.db); with Service Bus the topic is always the bus',
  BRIDGE_EVENT_BACKLOG_MAX: 'backpressure of the outbox topic, which exists only with the embedded bus',
  BRIDGE_EVENT_MAX_LAG_MS: 'backpressure of the outbox topic, which exists only with the embedded bus',
  BRIDGE_BACKPRESSURE_WAIT_MS: 'backpressure of the outbox topic, which exists only with the embedded bus',
};
const LOCAL_ONLY_PATTERNS: [RegExp, string][] = [
  [
    /^AI_\w+_API_KEY$/,
    'a provider key in plain text; in Azure it is the Key Vault secret named by AI_<PROVIDER>_API_KEY_SECRET',
  ],
];
/**
 * Settings of adapters for other clouds (seed 001's cloud abstraction: Azure, AWS, local). An Azure
 * deployment uses the Azure adapter instead, so infra/ does not set them.
 */
const NON_AZURE: Record<string, string> = {
  BRIDGE_S3_BUCKET: 'BRIDGE_FILES=s3 (Amazon S3 or an S3-compatible service); Azure uses Blob Storage',
  BRIDGE_S3_REGION: 'BRIDGE_FILES=s3; Azure uses Blob Storage',
  BRIDGE_S3_ENDPOINT: 'BRIDGE_FILES=s3 with an S3-compatible service; Azure uses Blob Storage',
  BRIDGE_S3_FORCE_PATH_STYLE: 'BRIDGE_FILES=s3 with an S3-compatible service; Azure uses Blob Storage',
};
const localOnlyReason = (name: string) =>
  LOCAL_ONLY[name] ?? NON_AZURE[name] ?? LOCAL_ONLY_PATTERNS.find(([pattern]) => pattern.test(name))?.[1];

/** Settings infra/ sets that config.ts does not read: who reads them instead. */
const HOST_AND_PLATFORM: Record<string, string> = {
  AzureWebJobsStorage__accountName: 'Functions host: its own storage (keys, timer locks), identity-based',
  AzureWebJobsStorage__credential: 'Functions host: use the managed identity for its storage',
  AzureWebJobsStorage__clientId: 'Functions host: which (user-assigned) identity',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'Functions host: where its telemetry goes (config.ts reads it too)',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Functions host: Entra auth for telemetry (local auth is off)',
  AZURE_CLIENT_ID: '@azure/identity DefaultAzureCredential in the bridge: the user-assigned identity',
};

/** Values infra/ sets that config.ts does not accept yet (the adapter behind them is being written). */
const PENDING_VALUES: Record<string, string> = {};

/** Where Azure intentionally differs from the local defaults (local.settings.example.json). */
const AZURE_VALUES: Record<string, string> = {
  BRIDGE_STORE: 'cosmos',
  BRIDGE_BUS: 'servicebus',
  BRIDGE_FILES: 'azure',
  BRIDGE_SECRETS: 'keyvault',
  BRIDGE_REALTIME: 'webpubsub',
};

const example = JSON.parse(fs.readFileSync(path.join(root, 'local.settings.example.json'), 'utf8')) as {
  Values: Record<string, string>;
  Settings: Record<string, string>;
};
const settings = appSettingEntries();
const provisioned = new Map(settings.map((e) => [e.key, e.value]));
const configNames = SETTING_NAMES as string[];
const registrations: Registration[] = sourceRegistrations();
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/**
 * The settings as the app would see them after a deployment: literals as written, expressions
 * evaluated for the default parameters (no AI provider) or, given `ai`, for every provider on.
 */
function standInEnv(
  ai?: { model: string; baseUrl: string },
  params: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of provisioned) {
    const literal = literalValue(functionAppModule, value);
    const param = ofKind(functionAppModule, 'param').find((p) => p.name === value);
    const paramValue = params[value] ?? (param && stringLiteral(paramDefault(param) ?? ''));
    if (literal !== undefined) env[name] = literal;
    else if (paramValue !== undefined) env[name] = paramValue;
    else if (/aiProviders/.test(value)) {
      const m = /\? '' : '([^']+)'$/.exec(value); // the key's secret name, once a model is set
      env[name] = !ai ? '' : m ? (m[1] as string) : /baseUrl/.test(value) ? ai.baseUrl : ai.model;
    } else if (name === 'BRIDGE_ADMIN_KEY')
      env[name] = 'k'.repeat(32); // the Key Vault reference, resolved
    else if (/_HUB$/.test(name))
      env[name] = 'resolved_in_azure'; // a Web PubSub hub name: letters, digits, _
    else
      env[name] = /URI|ENDPOINT|URL|accountEndpoint/i.test(name)
        ? 'https://resolved.example.invalid/'
        : 'resolved-in-azure';
  }
  return env;
}

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.setting);
  }
}

/** Every string in a registration's options (binding expressions can sit in any of them). */
function optionStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(optionStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(optionStrings);
  return [];
}

describe('settings: config.ts, local.settings.example.json and README.md agree', () => {
  it.each(configNames)('%s is in the example settings, described, and in the README', (name) => {
    expect(example.Values).toHaveProperty(name);
    expect(example.Settings[name]?.length).toBeGreaterThan(10);
    expect(readme).toContain(`\`${name}\``);
  });

  it('the example documents nothing that config.ts does not read, except the Functions host settings', () => {
    const hostSettings = new Set(['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage']);
    const extra = Object.keys(example.Values).filter((n) => !hostSettings.has(n) && !configNames.includes(n));
    expect(extra).toEqual([]);
    expect(Object.keys(example.Settings).sort()).toEqual(Object.keys(example.Values).sort());
  });

  it('the example values parse with config.ts', () => {
    expect(configProblems({ ...example.Values, BRIDGE_ADMIN_KEY: 'x'.repeat(32) })).toEqual([]);
  });
});

describe('settings: config.ts, local.settings.example.json and infra/ agree', () => {
  it('the function app module sets each setting once', () => {
    const keys = settings.map((e) => e.key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    // ... and nothing else sets app settings (no other appSettings, no sites/config resource).
    for (const file of bicepFiles.filter((f) => f !== functionAppModule)) {
      expect([file.rel, /appSettings|Microsoft\.Web\/sites\/config/.test(file.code)]).toEqual([
        file.rel,
        false,
      ]);
    }
    expect(functionAppModule.code.match(/appSettings/g)).toHaveLength(3); // var, siteConfig property, items()
  });

  it.each(configNames)(
    '%s (read by config.ts) is set in Azure, or is local-only or non-Azure with a reason',
    (name) => {
      expect([name, provisioned.has(name)]).toEqual([name, localOnlyReason(name) === undefined]);
    },
  );

  it('the exception lists name only settings that exist', () => {
    for (const name of [...Object.keys(LOCAL_ONLY), ...Object.keys(NON_AZURE)])
      expect(configNames).toContain(name);
    for (const [pattern] of LOCAL_ONLY_PATTERNS) expect(configNames.some((n) => pattern.test(n))).toBe(true);
    for (const name of [...Object.keys(HOST_AND_PLATFORM), ...Object.keys(AZURE_VALUES)]) {
      expect([name, provisioned.has(name)]).toEqual([name, true]);
    }
    for (const name of Object.keys(PENDING_VALUES)) expect(configNames).toContain(name);
  });

  it('every setting infra/ sets is read by config.ts, a binding connection or the Functions host', () => {
    const connectionPrefixes = new Set(
      registrations.map((r) => r.options.connection).filter((c) => typeof c === 'string'),
    );
    const unread = [...provisioned.keys()].filter(
      (name) =>
        !configNames.includes(name) &&
        !(name in HOST_AND_PLATFORM) &&
        !connectionPrefixes.has(name.split('__')[0] as string),
    );
    expect(unread).toEqual([]);
  });

  // Pending values swapped for the local ones, so the rest of config.ts's checks run too.
  const withoutPending = (env: Record<string, string>) => ({
    ...env,
    ...Object.fromEntries(Object.keys(PENDING_VALUES).map((n) => [n, example.Values[n] ?? ''])),
  });

  it('the values infra/ sets parse with config.ts', () => {
    expect(configProblems(withoutPending(standInEnv()))).toEqual([]);
  });

  it('config.ts rejects only the pending values (drop an entry from PENDING_VALUES once it accepts it)', () => {
    expect(configProblems(standInEnv()).sort()).toEqual(Object.keys(PENDING_VALUES).sort());
  });

  it('bearer tokens turned on through the auth parameters (Entra ID) are complete for config.ts', () => {
    const env = standInEnv(undefined, {
      authIssuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      authAudience: '11111111-1111-1111-1111-111111111111,api://portal-bridge',
    });
    expect(configProblems(withoutPending(env))).toEqual([]);
    expect(loadConfig(withoutPending(env)).auth.tokens).toMatchObject({ userClaim: 'oid' });
    // Without an issuer (the default parameters) only API keys are accepted.
    expect(loadConfig(withoutPending(standInEnv())).auth.tokens).toBeUndefined();
  });

  it('an AI provider turned on through aiProviders is complete for config.ts', () => {
    // What `aiProviders: { <key>: { model, baseUrl } }` makes of the AI_<PROVIDER>_* settings.
    const env = standInEnv({ model: 'some-model', baseUrl: 'https://ai.example.invalid/v1' });
    expect(configProblems(withoutPending(env))).toEqual([]);
    for (const [name, value] of provisioned) {
      if (/aiProviders/.test(value)) expect([name, env[name]]).not.toEqual([name, '']);
    }
  });

  it('literal values in infra/ equal the documented defaults, except where Azure differs on purpose', () => {
    for (const [name, value] of provisioned) {
      const literal = literalValue(functionAppModule, value);
      if (literal === undefined || literal === '' || !(name in example.Values)) continue;
      expect([name, literal]).toEqual([name, AZURE_VALUES[name] ?? example.Values[name]]);
    }
    for (const [name, value] of Object.entries(AZURE_VALUES)) {
      expect([name, literalValue(functionAppModule, provisioned.get(name) ?? '')]).toEqual([name, value]);
    }
  });

  it('settings for other clouds are documented as such and are never provisioned in Azure', () => {
    for (const name of Object.keys(NON_AZURE)) {
      expect([name, provisioned.has(name)]).toEqual([name, false]);
      expect([name, example.Settings[name]]).toEqual([
        name,
        expect.stringContaining('Not provisioned in Azure'),
      ]);
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect([name, row]).toEqual([name, expect.stringContaining('not set in Azure')]);
    }
    expect(configNames.filter((n) => /^BRIDGE_S3_/.test(n)).sort()).toEqual(Object.keys(NON_AZURE).sort());
  });

  it('the admin key is a Key Vault reference resolved with the user-assigned identity', () => {
    expect(provisioned.get('BRIDGE_ADMIN_KEY')).toBe("'@Microsoft.KeyVault(SecretUri=${adminKeySecretUri})'");
  });

  it('no secret or connection string is set as a plain value', () => {
    for (const [name, value] of provisioned) {
      expect([name, value]).not.toEqual([
        name,
        expect.stringMatching(/AccountKey=|SharedAccessKey|InstrumentationKey=|Password/i),
      ]);
    }
  });

  it('settings that carry a provisioned value are also deployment outputs of the same name', () => {
    const outputs = new Set(ofKind(main, 'output').map((o) => o.name));
    // Secrets and operator input (aiProviders) are not outputs.
    const notExported = new Set(['BRIDGE_ADMIN_KEY', 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING']);
    const missing = settings
      .filter(
        (e) => /^[A-Z][A-Z0-9_]*$/.test(e.key) && literalValue(functionAppModule, e.value) === undefined,
      )
      .filter((e) => !/aiProviders/.test(e.value) && !notExported.has(e.key) && !outputs.has(e.key))
      .map((e) => e.key);
    expect(missing).toEqual([]);
  });
});

describe('settings the function registrations bind to are provisioned', () => {
  it.each(registrations.map((r) => [r.name, r] as const))(
    '%s: every %NAME% binding expression is set',
    (_name, r) => {
      const names = optionStrings(r.options).flatMap((s) =>
        [...s.matchAll(/%([^%]+)%/g)].map((m) => m[1] as string),
      );
      for (const name of names) {
        expect([name, provisioned.has(name)]).toEqual([name, true]);
        expect([name, configNames.includes(name) && name in example.Values]).toEqual([name, true]);
      }
    },
  );

  // The property each connection needs besides credential/clientId (Functions identity-based connections).
  const SERVICE_PROPERTY: Record<string, string> = {
    cosmosDB: 'accountEndpoint',
    serviceBusQueue: 'fullyQualifiedNamespace',
    serviceBusTopic: 'fullyQualifiedNamespace',
  };

  it.each(registrations.filter((r) => r.options.connection !== undefined).map((r) => [r.name, r] as const))(
    '%s: its connection is identity-based with the user-assigned identity',
    (_name, r) => {
      const prefix = r.options.connection as string;
      const service = SERVICE_PROPERTY[r.trigger];
      expect(service).toBeDefined();
      expect(provisioned.has(`${prefix}__${service}`)).toBe(true);
      expect(literalValue(functionAppModule, provisioned.get(`${prefix}__credential`) ?? '')).toBe(
        'managedidentity',
      );
      expect(provisioned.get(`${prefix}__clientId`)).toBe('identityClientId');
      expect(provisioned.has(prefix)).toBe(false); // a connection string
    },
  );

  it('the host storage (timers, keys) is identity-based with the user-assigned identity', () => {
    expect(registrations.some((r) => r.trigger === 'timer')).toBe(true);
    expect(provisioned.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(literalValue(functionAppModule, provisioned.get('AzureWebJobsStorage__credential') ?? '')).toBe(
      'managedidentity',
    );
    expect(provisioned.get('AzureWebJobsStorage__clientId')).toBe('identityClientId');
    expect(provisioned.has('AzureWebJobsStorage')).toBe(false);
    expect(provisioned.get('AZURE_CLIENT_ID')).toBe('identityClientId');
  });
});
