import type { TaxonomyIndex } from '../domain/job-titles';
import { describeRole, unknownRole, type RoleInfo, type RoleLookup } from '../domain/analysis/role-catalog';

/**
 * A role lookup over the taxonomy `load` returns. `load` is asked on every lookup, so it should
 * cache (JobTitleService does, and follows imported taxonomies). If it fails the role is unknown,
 * with the reason in `taxonomy.error` (logged once per distinct reason).
 */
export function taxonomyRoleLookup(load: () => TaxonomyIndex | Promise<TaxonomyIndex>): RoleLookup {
  const warned = new Set<string>();
  return async (role: string): Promise<RoleInfo> => {
    let index: TaxonomyIndex;
    try {
      index = await load();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (!warned.has(reason)) {
        warned.add(reason);
        console.warn(`job-title taxonomy unavailable; analyses run without it: ${reason}`);
      }
      return unknownRole(role, { version: null, error: reason });
    }
    return describeRole(index, role);
  };
}
