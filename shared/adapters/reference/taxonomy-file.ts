/**
 * The built-in job-title taxonomy, read from data/job-titles/taxonomy.json (shipped with the app)
 * and validated and indexed by the domain on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTaxonomy, type TaxonomyIndex } from '../../domain/job-titles/taxonomy';
import type { BuiltInTaxonomySource } from '../../ports/reference-data';

/**
 * Where data/job-titles/taxonomy.json is: next to the sources (ts-jest, ts-node) or one level further
 * up when running the compiled files from dist/ (the deployment package ships data/ as is).
 */
export function builtInTaxonomyPath(): string {
  const candidates = [
    resolve(__dirname, '../../../data/job-titles/taxonomy.json'),
    resolve(__dirname, '../../../../data/job-titles/taxonomy.json'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`built-in job-title taxonomy not found (looked in ${candidates.join(', ')})`);
  return found;
}

let builtIn: TaxonomyIndex | undefined;

/** Read, validated and indexed on first call, then kept for the life of the process. */
export const fileBuiltInTaxonomy: BuiltInTaxonomySource = () => {
  builtIn ??= loadTaxonomy(JSON.parse(readFileSync(builtInTaxonomyPath(), 'utf8')) as unknown);
  return builtIn;
};
