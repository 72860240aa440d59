import * as path from 'node:path';
import { loadRegistrations, type Registration } from '../../local/function-registry';

export const PROJECT_ROOT = path.join(__dirname, '../..');

/**
 * The function files' registrations, loaded from the TypeScript sources under jest (the same files
 * tsc compiles to package.json "main"), so the unit tier needs no build and never tests stale output.
 */
export const SOURCE_MAIN = 'functions/*.ts';

export function sourceRegistrations(): Registration[] {
  return loadRegistrations(PROJECT_ROOT, SOURCE_MAIN);
}
