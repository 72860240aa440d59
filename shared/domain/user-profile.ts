import type { JsonValue } from './json';

/** Who wrote: the admin portal, the user portal, or a backend service. */
export type WriterRole = 'admin' | 'user' | 'service';

export interface FieldMeta {
  /** Profile version at which the field last changed. */
  version: number;
  source: WriterRole;
  updatedAt: string;
  /** The field was removed (written as null); kept so later writes can detect the conflict. */
  deleted?: true;
}

export interface UserProfile {
  userId: string;
  data: Record<string, JsonValue>;
  version: number;
  createdAt: string;
  updatedAt: string;
  fields: Record<string, FieldMeta>;
}

export type RejectReason = 'protected' | 'conflict';
/** admin-override: an admin write replaced a newer change; admin-wins: a non-admin write lost to a newer admin change; last-write-wins: non-admin vs non-admin. */
export type ConflictResolution = 'admin-override' | 'admin-wins' | 'last-write-wins';

export interface ProfileWrite {
  userId: string;
  /** Field → new value; null removes the field. */
  data: Record<string, JsonValue>;
  /** The profile version the writer last saw; enables conflict detection. */
  baseVersion?: number;
  writer: WriterRole;
  /** ISO time of this write. */
  now: string;
}

export interface MergeOutcome {
  kind: 'merged';
  profile: UserProfile;
  /** False when the write left the profile as it was (no new version). */
  changed: boolean;
  applied: string[];
  rejected: { field: string; reason: RejectReason }[];
  conflicts: { field: string; resolution: ConflictResolution }[];
}

export interface StaleBaseOutcome {
  kind: 'base-ahead';
  currentVersion: number;
}

/**
 * Whether a field is protected: names match case-insensitively, and a protected name covers its
 * dotted sub-paths (`role.name` under `role`) as well as any ancestor path that would overwrite it
 * (`permissions` when `permissions.admin` is protected).
 */
export function isProtectedField(field: string, protectedFields: ReadonlySet<string>): boolean {
  const name = field.toLowerCase();
  for (const raw of protectedFields) {
    const guarded = raw.toLowerCase();
    if (name === guarded || name.startsWith(`${guarded}.`) || guarded.startsWith(`${name}.`)) return true;
  }
  return false;
}

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

/**
 * Applies one portal's write to a profile under the bridge's sync rules:
 * - protected fields (case-insensitive, with their dotted sub-paths) are written by admins only;
 *   anyone else's write to one is rejected (`protected`);
 * - with `baseVersion`, a field changed after it is a conflict: an admin writer overrides it, a
 *   non-admin writer loses to an admin change (`conflict`) and wins over a non-admin one (last write);
 * - without `baseVersion` the write is last-write-wins, still subject to protection;
 * - `null` removes a field. Pure: returns a new profile, never mutates `current`.
 */
export function mergeProfileWrite(
  current: UserProfile | undefined,
  write: ProfileWrite,
  protectedFields: ReadonlySet<string>,
): MergeOutcome | StaleBaseOutcome {
  const currentVersion = current?.version ?? 0;
  if (write.baseVersion !== undefined && write.baseVersion > currentVersion) {
    return { kind: 'base-ahead', currentVersion };
  }
  const nextVersion = currentVersion + 1;
  const data: Record<string, JsonValue> = { ...(current?.data ?? {}) };
  const fields: Record<string, FieldMeta> = { ...(current?.fields ?? {}) };
  const outcome: MergeOutcome = {
    kind: 'merged',
    profile: current ?? emptyProfile(write.userId, write.now),
    changed: false,
    applied: [],
    rejected: [],
    conflicts: [],
  };

  for (const field of Object.keys(write.data)) {
    const value = write.data[field] as JsonValue;
    if (write.writer !== 'admin' && isProtectedField(field, protectedFields)) {
      outcome.rejected.push({ field, reason: 'protected' });
      continue;
    }
    const meta = fields[field];
    if (write.baseVersion !== undefined && meta !== undefined && meta.version > write.baseVersion) {
      if (write.writer === 'admin') {
        outcome.conflicts.push({ field, resolution: 'admin-override' });
      } else if (meta.source === 'admin') {
        outcome.conflicts.push({ field, resolution: 'admin-wins' });
        outcome.rejected.push({ field, reason: 'conflict' });
        continue;
      } else {
        outcome.conflicts.push({ field, resolution: 'last-write-wins' });
      }
    }
    outcome.applied.push(field);
    const existing = Object.hasOwn(data, field) ? data[field] : undefined;
    if (value === null) {
      if (existing === undefined) continue;
      delete data[field];
      fields[field] = { version: nextVersion, source: write.writer, updatedAt: write.now, deleted: true };
    } else {
      if (sameJson(existing, value)) continue;
      data[field] = value;
      fields[field] = { version: nextVersion, source: write.writer, updatedAt: write.now };
    }
    outcome.changed = true;
  }

  if (outcome.changed) {
    outcome.profile = {
      userId: write.userId,
      data,
      version: nextVersion,
      createdAt: current?.createdAt ?? write.now,
      updatedAt: write.now,
      fields,
    };
  }
  return outcome;
}

function emptyProfile(userId: string, now: string): UserProfile {
  return { userId, data: {}, version: 0, createdAt: now, updatedAt: now, fields: {} };
}
