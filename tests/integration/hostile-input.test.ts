/**
 * Hostile-input suite (issue 9): fast-check generates requests to every write route the route
 * registry knows (so a new route is covered without being listed here) — hostile ids and path
 * segments, bodies near and far from their schema, malformed and deep JSON, wrong content types,
 * every kind of key — and runs them through the real handlers over a real embedded store.
 *
 * For every request: never a 5xx; a refused request (4xx) changes nothing stored (the store's and
 * the bus's SQLite `data_version`, the file store and the secrets file are compared before and
 * after); and the longest event-loop delay is measured (monitorEventLoopDelay; asserted below
 * HOSTILE_MAX_STALL_MS when that is set, e.g. 100 in `npm run test:heavy`).
 * HOSTILE_REQUESTS (default 10,000) requests, bounded by HOSTILE_TIME_BUDGET_MS (default 90 s; a
 * busy machine sends fewer, and the count is printed).
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { setServices, type Services } from '../../shared/container';
import type { RegisteredRoute } from '../../shared/http/route-registry';
import { loadAllRoutes } from '../helpers/all-routes';
import { invokeHandler } from '../helpers/invoke-handler';
import { TEST_ADMIN_KEY, makeTestServices } from '../helpers/test-services';

const TOTAL = Number(process.env.HOSTILE_REQUESTS ?? 10_000);
const TIME_BUDGET_MS = Number(process.env.HOSTILE_TIME_BUDGET_MS ?? 90_000);
/** Set to assert the event-loop goal (100 ms); `npm test` only prints the measured delay (timing goals live in the perf tier). */
const MAX_STALL_MS = process.env.HOSTILE_MAX_STALL_MS ? Number(process.env.HOSTILE_MAX_STALL_MS) : undefined;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every route that writes and takes input (path parameters, a query or a body). A write route
 * without input (lockstep-probe) has nothing a caller could make hostile.
 */
const routes = loadAllRoutes().filter(
  (r) =>
    r.methods.some((m) => WRITE_METHODS.has(m)) &&
    (r.bodyKind !== 'none' || r.params !== undefined || r.query !== undefined || r.route.includes('{')),
);

/** The handler a route's function file exports (file name = route name). */
function handlerOf(route: RegisteredRoute): HttpHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exports = require(path.join(__dirname, '../../functions', `${route.name}.ts`)) as Record<
    string,
    unknown
  >;
  const handlers = Object.values(exports).filter((v): v is HttpHandler => typeof v === 'function');
  if (handlers.length !== 1) throw new Error(`${route.name}: expected one exported handler`);
  return handlers[0] as HttpHandler;
}

// ---------------------------------------------------------------------------------------------
// Generators

const hostileString = fc.constantFrom(
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  '../../etc/passwd',
  'a/b',
  'a\\b',
  'a%2fb',
  '%00',
  '\u0000',
  '\u202e\ufeff',
  '😀'.repeat(70),
  'x'.repeat(256),
  'y'.repeat(5000),
  'http://[::a9fe:a9fe]/',
  'http://metadata.google.internal./',
  'http://127.0.0.1:1/hook',
  'user_update',
  'USER_UPDATE',
  'tokens_granted',
  'Role',
  'role.name',
  'permissions.admin',
  'NaN',
  '-1',
  '1e309',
  'users/ann/cv.txt',
  'sub_0123456789abcdef',
  'op_0123456789abcdef01234567',
);
const plausibleString = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/),
  fc.constantFrom('ann', 'bob', 'portal_note', 'Data Engineer', 'London, GB', 'admin', 'user', 'service'),
);
const anyString = fc.oneof(
  { weight: 3, arbitrary: plausibleString },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);
const leaf = fc.oneof(
  anyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Property names a route's body schema knows (top level and one level down), to get past strict objects. */
function knownKeys(route: RegisteredRoute): string[] {
  if (!route.body) return [];
  try {
    const schema = z.toJSONSchema(route.body, { unrepresentable: 'any' }) as Record<string, unknown>;
    const keys = new Set<string>();
    const visit = (node: unknown, depth: number) => {
      if (!node || typeof node !== 'object' || depth > 2) return;
      const n = node as Record<string, unknown>;
      for (const k of Object.keys((n.properties as object) ?? {})) {
        keys.add(k);
        visit((n.properties as Record<string, unknown>)[k], depth + 1);
      }
      for (const branch of [...((n.anyOf as unknown[]) ?? []), ...((n.oneOf as unknown[]) ?? [])])
        visit(branch, depth);
      visit(n.items, depth + 1);
    };
    visit(schema, 0);
    return [...keys];
  } catch {
    return [];
  }
}

function bodyFor(route: RegisteredRoute): fc.Arbitrary<{ body?: string | Buffer; contentType?: string }> {
  const keys = knownKeys(route);
  const key =
    keys.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, anyString) : anyString;
  const nearValid = fc.dictionary(key, value, { minKeys: 0, maxKeys: Math.max(4, keys.length) });
  const json = fc.oneof(
    { weight: 6, arbitrary: nearValid.map((o) => JSON.stringify(o)) },
    { weight: 1, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d)) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 65, max: 5000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) }, // mostly malformed
    { weight: 1, arbitrary: fc.constantFrom('', '{', '{"__proto__":{"x":1}}', '{"a":1,"a":2}', 'null') },
  );
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('text/csv', 'text/plain', 'application/xml', 'application/problem+json'),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.oneof(
    { weight: 9, arbitrary: fc.record({ body: json, contentType }) },
    {
      weight: 1,
      arbitrary: fc.record({
        body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        contentType,
      }),
    },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

interface GeneratedRequest {
  method: string;
  params: Record<string, string>;
  query: Record<string, string>;
  key: 'admin' | 'user' | 'service' | 'none' | 'bogus';
  body?: string | Buffer;
  contentType?: string;
  idempotencyKey?: string;
}

function requestFor(route: RegisteredRoute): fc.Arbitrary<GeneratedRequest> {
  const names = [...route.route.matchAll(/\{\*?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
  const params = fc.record(
    Object.fromEntries(names.map((n) => [n, anyString])) as Record<string, fc.Arbitrary<string>>,
  );
  return fc
    .record({
      method: fc.constantFrom(...route.methods.filter((m) => WRITE_METHODS.has(m))),
      params,
      query: fc.dictionary(fc.constantFrom('format', 'userId', 'limit', 'after', '__proto__'), anyString, {
        maxKeys: 2,
      }),
      key: fc.constantFrom<GeneratedRequest['key']>(
        'admin',
        'admin',
        'admin',
        'admin',
        'user',
        'service',
        'none',
        'bogus',
      ),
      // A header carries bytes (latin-1) only: what an HTTP client can send at all.
      idempotencyKey: fc.option(
        anyString.map((k) => k.replace(/[^\x20-\xff]/g, '?')),
        { nil: undefined },
      ),
      payload: bodyFor(route),
    })
    .map(({ payload, idempotencyKey, ...rest }) => ({
      ...rest,
      ...payload,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    }));
}

// ---------------------------------------------------------------------------------------------
// What "nothing changed" means: every durable place the bridge writes

function stateProbe(dataDir: string) {
  const open = (file: string) =>
    new Database(path.join(dataDir, file), { readonly: true, fileMustExist: true });
  const store = open('bridge.db');
  const bus = fs.existsSync(path.join(dataDir, 'bus.db')) ? open('bus.db') : undefined;
  const version = (db: Database.Database | undefined) =>
    db ? (db.pragma('data_version', { simple: true }) as number) : 0;
  const walk = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const full = path.join(dir, e.name);
          if (e.isDirectory()) return walk(full);
          const st = fs.statSync(full);
          return [`${full}:${st.size}:${st.mtimeMs}`];
        })
      : [];
  return {
    /** A fingerprint that changes whenever anything durable changed (data_version moves on another connection's commit). */
    fingerprint: () =>
      JSON.stringify([
        version(store),
        version(bus),
        walk(path.join(dataDir, 'files', 'objects')).sort(),
        fs.existsSync(path.join(dataDir, 'secrets.json'))
          ? fs.statSync(path.join(dataDir, 'secrets.json')).mtimeMs
          : 0,
      ]),
    close: () => {
      store.close();
      bus?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('hostile input over every write route', () => {
  let services: Services;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const keys: Record<GeneratedRequest['key'], string> = {
    admin: TEST_ADMIN_KEY,
    user: '',
    service: '',
    none: '',
    bogus: 'pbk_not-a-real-key-0123456789',
  };

  beforeAll(async () => {
    // No fast path: nothing commits in the background after a request, so a change is the request's own.
    ({ services, dataDir, cleanup } = makeTestServices({
      BRIDGE_EVENTS_FAST_PATH: 'false',
      BRIDGE_WEBHOOK_ALLOW_PRIVATE: 'false',
      // Usage counts are written on a timer, not by requests: no flush may land between a
      // request's before and after fingerprints.
      BRIDGE_USAGE_FLUSH_SECONDS: '3600',
      // A rate-limit counter counts every request that reaches a handler, whatever its answer (by
      // design, tests/unit/identity/rate-limits.test.ts): off here, where a refused request must
      // leave the store as it was.
      BRIDGE_RATE_LIMITS_KEY: 'none',
    }));
    setServices(services);
    keys.user = (await services.apiKeys.issue('user', 'user portal')).key;
    keys.service = (await services.apiKeys.issue('service', 'backend')).key;
    // One-time loads (the built-in taxonomy, the gazetteer: seconds, once per instance) happen
    // before the stall monitor starts: it measures what a request costs on a running instance.
    await services.jobTitles.current();
    await services.jobTitles.titleIdsOf(['Data Engineer']);
    await services.analysis.geographic({ location: 'Leeds, GB', radiusKm: 1 });
    await services.tokens.grant({
      userId: 'ann',
      amount: 50,
      principal: keyPrincipalOfAdmin(),
      reason: 'hostile suite',
    });
  }, 120_000);
  afterAll(async () => {
    setServices(undefined);
    await cleanup();
  });

  it(
    `covers every write route with ${TOTAL} generated requests: no 5xx, no change from a refused request, no stall`,
    async () => {
      expect(routes.length).toBeGreaterThan(15);
      const probe = stateProbe(dataDir);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      const stalls = stallRecorder();
      const spans: { from: number; to: number; what: string }[] = [];
      const started = Date.now();
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let sent = 0;
      let slowest = { ms: 0, what: '' };
      let refused = 0;
      const perRoute = Math.ceil(TOTAL / routes.length);
      delay.enable();
      try {
        for (const route of routes) {
          const handler = handlerOf(route);
          await fc.assert(
            fc.asyncProperty(requestFor(route), async (req) => {
              if (Date.now() - started > TIME_BUDGET_MS) return;
              const before = probe.fingerprint();
              const t0 = performance.now();
              const res = await invokeHandler(handler, {
                method: req.method,
                url: `http://localhost/api/${route.route}`,
                key: req.key === 'none' ? '' : keys[req.key],
                params: req.params,
                query: req.query,
                headers: {
                  ...(req.contentType ? { 'content-type': req.contentType } : {}),
                  ...(req.idempotencyKey ? { 'idempotency-key': req.idempotencyKey } : {}),
                },
                ...(req.body !== undefined
                  ? { body: Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body) }
                  : {}),
              });
              sent++;
              // One macrotask turn per request, as on a server: the delay monitor then measures each
              // request's longest synchronous stretch, not the driver's back-to-back loop.
              await new Promise((resolve) => setImmediate(resolve));
              const took = performance.now() - t0;
              spans.push({ from: t0, to: t0 + took, what: `${route.name} ${res.status}` });
              if (took > slowest.ms)
                slowest = {
                  ms: took,
                  what: `${route.name} ${res.status} ${JSON.stringify(req).slice(0, 200)}`,
                };
              statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
              if (res.status >= 500) {
                failures.push(
                  `${route.name} ${res.status}: ${JSON.stringify(req).slice(0, 300)} → ${res.raw.slice(0, 300)}`,
                );
                return;
              }
              if (res.status >= 400) {
                refused++;
                const after = probe.fingerprint();
                if (after !== before)
                  failures.push(
                    `${route.name} ${res.status} changed state: ${JSON.stringify(req).slice(0, 300)}`,
                  );
              }
            }),
            {
              numRuns: perRoute,
              endOnFailure: true,
              seed: Number(process.env.HOSTILE_SEED ?? Date.now() % 2 ** 31),
            },
          );
        }
      } finally {
        delay.disable();
        stalls.stop();
        probe.close();
      }
      for (const stall of stalls.list) {
        const span = spans.find((x) => x.from < stall.end && x.to > stall.end - stall.ms);
        console.log(
          `STALL ${stall.ms.toFixed(0)} ms during ${span?.what ?? 'the driver (generation, state probe)'}`,
        );
      }
      const maxStallMs = delay.max / 1e6;
      const elapsed = Date.now() - started;
      console.log(
        `hostile input: ${sent} requests over ${routes.length} write routes in ${elapsed} ms; ` +
          `${refused} refused (4xx), ${[...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0)} 5xx; ` +
          `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ` +
          `event-loop delay max ${maxStallMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; ` +
          `slowest request ${slowest.ms.toFixed(1)} ms: ${slowest.what}`,
      );
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThanOrEqual(Math.min(TOTAL, 1_000)); // the time budget may cut a slow run short
      if (MAX_STALL_MS !== undefined) expect(maxStallMs).toBeLessThan(MAX_STALL_MS);
    },
    TIME_BUDGET_MS + 60_000,
  );
});

function stallRecorder() {
  const list: { end: number; ms: number }[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > 60) list.push({ end: now, ms: now - last });
    last = now;
  }, 5);
  return { list, stop: () => clearInterval(timer) };
}

function keyPrincipalOfAdmin() {
  return { kind: 'key' as const, keyId: 'bootstrap', role: 'admin' as const, name: 'hostile suite' };
}
