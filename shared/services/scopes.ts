/**
 * Scopes: the route groups an API key can be narrowed to (`POST /api/keys {scopes}`). Every route
 * declares exactly one (`access: { roles, scope }` in its route definition); a key with scopes may
 * call only the routes of those scopes, with its role's reach there. A key without scopes (every
 * key issued before scopes existed) keeps its role's full reach. Usage is counted per scope, too.
 *
 * Add a scope here (with its description: the README and the key routes list them) only for a
 * new group of routes; a new route normally joins an existing one.
 */
export const SCOPE_DESCRIPTIONS = {
  'users:read': 'read profiles (GET /users/{userId})',
  'users:write': 'sync and delete profiles',
  'state:read': 'read shared state entries',
  'state:write': 'write and delete shared state entries',
  'events:read': 'replay (and stream) events',
  'events:publish': 'publish events',
  'events:quarantine': 'list, redeliver and dismiss quarantined (poison) events',
  subscriptions: 'webhook subscriptions, their dead letters and redelivery',
  operations: 'queue async operations and read their status',
  files: 'upload, download, list and delete files',
  analysis: 'the comprehensive, geographic and Bayesian analyses',
  providers: 'the AI provider lock (read, acquire, release)',
  'tokens:read': 'token balances and ledgers',
  'tokens:spend': 'the metered job-title operations (they spend tokens)',
  'tokens:grant': 'grant tokens',
  catalog: 'import the job-title taxonomy and job-posting counts',
  monitoring: 'metrics, the lockstep monitor and probe',
  secrets: 'secret names and writes',
  keys: 'issue, list and revoke API keys',
  usage: 'usage per key and per end user',
} as const;

export type Scope = keyof typeof SCOPE_DESCRIPTIONS;

export const SCOPES = Object.keys(SCOPE_DESCRIPTIONS) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPE_DESCRIPTIONS, value);
}
