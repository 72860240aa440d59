import * as fs from 'node:fs';
import * as path from 'node:path';

/** One `app.<trigger>(name, options)` call made by a function file. */
export interface Registration {
  trigger: string;
  name: string;
  options: Record<string, unknown> & { handler: (...args: unknown[]) => unknown };
}

/** Expands package.json "main" (a file or a single-level `dir/*.js` glob, as the Functions host accepts). */
export function resolveMainFiles(root: string, main: string): string[] {
  const pattern = path.resolve(root, main);
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!base.includes('*')) return [pattern];
  if (dir.includes('*')) throw new Error(`Unsupported "main" glob: ${main}`);
  const matcher = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => matcher.test(file))
    .sort()
    .map((file) => path.join(dir, file));
}

const TRIGGER_METHODS = [
  'http',
  'timer',
  'cosmosDB',
  'serviceBusQueue',
  'serviceBusTopic',
  'storageQueue',
  'storageBlob',
  'eventGrid',
  'eventHub',
  'warmup',
  'generic',
];
const HTTP_SHORTHANDS: Record<string, string> = {
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  patch: 'PATCH',
  deleteRequest: 'DELETE',
};

/** package.json "main": where the Functions host finds the compiled function files. */
export function packageMain(root: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { main?: string };
  if (!pkg.main) throw new Error('package.json has no "main"');
  return pkg.main;
}

/**
 * Loads the function files exactly as the Functions host would (package.json "main"), with the
 * `app` registration methods of @azure/functions replaced so that each call is recorded here.
 * `main` overrides the glob: the unit tests pass `functions/*.ts` to load the sources themselves
 * (under jest's TypeScript transform) instead of whatever an earlier build left in dist/.
 */
export function loadRegistrations(root: string, main = packageMain(root)): Registration[] {
  const files = resolveMainFiles(root, main);
  if (files.length === 0) throw new Error(`No function files match "${main}"; run npm run build.`);

  // Resolve @azure/functions the way the function files will, so both see the same module instance.
  const functionsModulePath = require.resolve('@azure/functions', {
    paths: [path.dirname(files[0] as string)],
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { app } = require(functionsModulePath) as { app: Record<string, unknown> };
  const registrations: Registration[] = [];
  const saved = new Map<string, unknown>();
  const record = (trigger: string) => (name: string, options: unknown) => {
    const opts = (typeof options === 'function' ? { handler: options } : options) as Registration['options'];
    registrations.push({ trigger, name, options: opts });
  };
  for (const method of [...TRIGGER_METHODS, ...Object.keys(HTTP_SHORTHANDS)]) {
    saved.set(method, app[method]);
  }
  for (const method of TRIGGER_METHODS) app[method] = record(method);
  for (const [shorthand, verb] of Object.entries(HTTP_SHORTHANDS)) {
    app[shorthand] = (name: string, options: unknown) => {
      const opts = (
        typeof options === 'function' ? { handler: options } : options
      ) as Registration['options'];
      registrations.push({ trigger: 'http', name, options: { ...opts, methods: [verb] } });
    };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    for (const file of files) require(file);
  } finally {
    for (const [method, fn] of saved) app[method] = fn;
  }
  return registrations;
}
