import * as fs from 'node:fs';
import * as path from 'node:path';
import { registeredRoutes, type RegisteredRoute } from '../../shared/http/route-registry';

const FUNCTIONS_DIR = path.join(__dirname, '..', '..', 'functions');

/**
 * Loads every function file (the sources, in this module registry) and returns the routes they
 * declared. Use it to generate anything that must cover every route (OpenAPI, authorization
 * matrices): a new route file is picked up without being listed anywhere.
 */
export function loadAllRoutes(): readonly RegisteredRoute[] {
  for (const file of fs.readdirSync(FUNCTIONS_DIR).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (file.endsWith('.ts')) require(path.join(FUNCTIONS_DIR, file));
  }
  return registeredRoutes();
}

/** Function files that serve HTTP (they declare `route('<name>', …)`); the rest are other triggers. */
export const httpFunctionFileNames = (): string[] =>
  functionFileNames().filter((name) =>
    /\broute\(\s*'/.test(fs.readFileSync(path.join(FUNCTIONS_DIR, `${name}.ts`), 'utf8')),
  );

export const functionFileNames = (): string[] =>
  fs
    .readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
