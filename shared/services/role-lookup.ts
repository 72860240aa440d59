import type { TaxonomyIndex } from '../domain/job-titles';
import { describeRole, unknownRole, type RoleInfo, type RoleLookup } from '../domain/analysis/role-catalog';

/**
 * A role lookup over the taxonomy `load` returns. `load` is asked on every lookup, so it should
 * cache (JobTitleService does, and follows imported taxonomies). If it fails the role is unknown,
 * with the reason in `taxonomy.error` (logged once per distinct reason).
 */
export function taxonomyRoleLookup(load: () => TaxonomyIndex | Promise<TaxonomyIndex>): RoleLookup {
  return guardedRoleLookup(async (role) => describeRole(await load(), role));
}

/**
 * A role lookup by `describe` (e.g. JobTitleService.describeRole, on the compute worker over the
 * taxonomy in use). If it fails (the taxonomy cannot be loaded) the role is unknown, with the
 * reason in `taxonomy.error` (logged once per distinct reason).
 */
export function guardedRoleLookup(describe: (role: string) => Promise<RoleInfo>): RoleLookup {
  const warned = new Set<string>();
  return async (role: string): Promise<RoleInfo> => {
    try {
      return await describe(role);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (!warned.has(reason)) {
        warned.add(reason);
        console.warn(`job-title taxonomy unavailable; analyses run without it: ${reason}`);
      }
      return unknownRole(role, { version: null, error: reason });
    }
  };
}
