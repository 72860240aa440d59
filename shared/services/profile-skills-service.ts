import type { NormalizedSkill } from '../domain/career/skills';
import type { JsonValue } from '../domain/json';
import type { Principal } from './principal';
import { ServiceError } from './errors';
import type { SkillCatalog } from './skill-catalog';
import type { SyncResult, SyncService } from './sync-service';

/** The profile field the skills live in: a list of skill names. */
export const PROFILE_SKILLS_FIELD = 'skills';
/** Skills a profile keeps at most. */
export const MAX_PROFILE_SKILLS = 200;

export interface SkillsChange {
  add?: readonly string[];
  remove?: readonly string[];
}

export interface SkillsUpdate {
  userId: string;
  /** The profile's skills after the change. */
  skills: string[];
  added: NormalizedSkill[];
  removed: NormalizedSkill[];
  /** What the sync did (version, applied, rejected, conflicts): the merge rules decide. */
  sync: SyncResult;
}

/** The profile's skills as a list of strings (anything else in the field counts as no skills). */
export function profileSkills(data: Record<string, JsonValue> | undefined): string[] {
  const value = data?.[PROFILE_SKILLS_FIELD];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Adds and removes profile skills, normalised against the taxonomy ("K8s" → "kubernetes"; unknown
 * skills are kept cleaned and reported `known: false`). The change is a sync of the `skills` field
 * through the merge rules (protected fields, admin override), computed from the profile as it is
 * when written, so concurrent changes are never lost; it emits the sync's `user_update` event.
 */
export class ProfileSkillsService {
  constructor(private readonly deps: { sync: SyncService; skills: SkillCatalog }) {}

  async update(userId: string, change: SkillsChange, principal: Principal): Promise<SkillsUpdate> {
    const added = await this.deps.skills.normalize(change.add ?? []);
    const removed = await this.deps.skills.normalize(change.remove ?? []);
    const removing = new Set(removed.map((r) => r.skill));
    const clash = added.find((a) => removing.has(a.skill));
    if (clash) {
      throw new ServiceError('validation', `"${clash.skill}" is both added and removed.`, [
        { path: '/add', message: `${clash.skill} is also in remove` },
      ]);
    }
    let skills: string[] = [];
    const sync = await this.deps.sync.syncComputed(
      userId,
      (current) => {
        const existing = profileSkills(current?.data);
        const kept = existing.filter((s) => !removing.has(s.toLowerCase()) && !removing.has(s));
        const have = new Set(kept.map((s) => s.toLowerCase()));
        skills = [...kept, ...added.map((a) => a.skill).filter((s) => !have.has(s))];
        if (skills.length > MAX_PROFILE_SKILLS) {
          throw new ServiceError('validation', `A profile keeps at most ${MAX_PROFILE_SKILLS} skills.`, [
            { path: '/add', message: `would make ${skills.length} skills` },
          ]);
        }
        return { data: { [PROFILE_SKILLS_FIELD]: skills } };
      },
      principal.role,
    );
    return { userId, skills: profileSkills(sync.data), added, removed, sync };
  }
}
