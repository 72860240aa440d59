import fc from 'fast-check';
import type { JsonValue } from '../../../shared/ports/document-store';
import {
  isProtectedField,
  mergeProfileWrite,
  type MergeOutcome,
  type UserProfile,
  type WriterRole,
} from '../../../shared/domain/user-profile';

const PROTECTED = new Set(['role', 'permissions', 'status']);
const T0 = '2026-01-01T00:00:00.000Z';

function merged(outcome: ReturnType<typeof mergeProfileWrite>): MergeOutcome {
  if (outcome.kind !== 'merged') throw new Error(`expected a merge, got ${outcome.kind}`);
  return outcome;
}

function write(
  current: UserProfile | undefined,
  writer: WriterRole,
  data: Record<string, JsonValue>,
  baseVersion?: number,
) {
  return merged(mergeProfileWrite(current, { userId: 'u1', data, writer, baseVersion, now: T0 }, PROTECTED));
}

describe('mergeProfileWrite', () => {
  it('creates a profile at version 1 with per-field metadata', () => {
    const out = write(undefined, 'admin', { name: 'Ann', role: 'member' });
    expect(out.changed).toBe(true);
    expect(out.profile.version).toBe(1);
    expect(out.profile.data).toEqual({ name: 'Ann', role: 'member' });
    expect(out.profile.fields.role).toEqual({ version: 1, source: 'admin', updatedAt: T0 });
    expect(out.applied).toEqual(['name', 'role']);
  });

  it('rejects a user-portal write to a protected field and applies the rest', () => {
    const base = write(undefined, 'admin', { name: 'Ann', role: 'member' }).profile;
    const out = write(base, 'user', { name: 'Annie', role: 'admin' });
    expect(out.rejected).toEqual([{ field: 'role', reason: 'protected' }]);
    expect(out.applied).toEqual(['name']);
    expect(out.profile.data).toEqual({ name: 'Annie', role: 'member' });
    expect(out.profile.version).toBe(2);
  });

  it('treats service writers like the user portal for protected fields', () => {
    const out = write(undefined, 'service', { status: 'active', plan: 'pro' });
    expect(out.rejected).toEqual([{ field: 'status', reason: 'protected' }]);
    expect(out.profile.data).toEqual({ plan: 'pro' });
  });

  it('protects fields case-insensitively and as dotted paths (issue 9)', () => {
    const out = write(undefined, 'user', {
      Role: 'admin',
      ROLE: 'admin',
      'role.name': 'admin',
      'permissions.admin': true,
      'Status.Value': 'active',
      roles: 'kept',
      'roleplay.x': 1,
    });
    expect(out.rejected.map((r) => r.field)).toEqual([
      'Role',
      'ROLE',
      'role.name',
      'permissions.admin',
      'Status.Value',
    ]);
    expect(out.profile.data).toEqual({ roles: 'kept', 'roleplay.x': 1 });
    expect(write(undefined, 'admin', { 'ROLE.name': 'x' }).applied).toEqual(['ROLE.name']);
  });

  it('protects the ancestors of a dotted protected field', () => {
    const guarded = new Set(['Permissions.Admin']);
    expect(isProtectedField('permissions', guarded)).toBe(true);
    expect(isProtectedField('permissions.admin.level', guarded)).toBe(true);
    expect(isProtectedField('permissions.read', guarded)).toBe(false);
    expect(isProtectedField('perm', guarded)).toBe(false);
  });

  it('rejects a stale user write against a newer admin change as a conflict', () => {
    const v1 = write(undefined, 'user', { email: 'a@x' }).profile;
    const v2 = write(v1, 'admin', { email: 'admin@x' }).profile;
    const out = write(v2, 'user', { email: 'stale@x', city: 'Oslo' }, 1);
    expect(out.rejected).toEqual([{ field: 'email', reason: 'conflict' }]);
    expect(out.conflicts).toEqual([{ field: 'email', resolution: 'admin-wins' }]);
    expect(out.profile.data).toEqual({ email: 'admin@x', city: 'Oslo' });
  });

  it('lets an admin override a newer change and reports it', () => {
    const v1 = write(undefined, 'admin', { email: 'a@x' }).profile;
    const v2 = write(v1, 'user', { email: 'user@x' }).profile;
    const out = write(v2, 'admin', { email: 'admin@x' }, 1);
    expect(out.conflicts).toEqual([{ field: 'email', resolution: 'admin-override' }]);
    expect(out.profile.data.email).toBe('admin@x');
  });

  it('resolves user-vs-user conflicts as last write wins', () => {
    const v1 = write(undefined, 'user', { bio: 'one' }).profile;
    const v2 = write(v1, 'user', { bio: 'two' }).profile;
    const out = write(v2, 'user', { bio: 'three' }, 1);
    expect(out.conflicts).toEqual([{ field: 'bio', resolution: 'last-write-wins' }]);
    expect(out.profile.data.bio).toBe('three');
  });

  it('does not report a conflict for fields unchanged since baseVersion', () => {
    const v1 = write(undefined, 'admin', { a: 1, b: 1 }).profile;
    const v2 = write(v1, 'admin', { a: 2 }).profile;
    const out = write(v2, 'user', { b: 3 }, 1);
    expect(out.conflicts).toEqual([]);
    expect(out.profile.data).toEqual({ a: 2, b: 3 });
  });

  it('removes a field written as null and remembers the removal for conflict checks', () => {
    const v1 = write(undefined, 'admin', { phone: '123', name: 'A' }).profile;
    const v2 = write(v1, 'admin', { phone: null });
    expect(v2.profile.data).toEqual({ name: 'A' });
    expect(v2.profile.fields.phone).toMatchObject({ version: 2, source: 'admin', deleted: true });
    const stale = write(v2.profile, 'user', { phone: '999' }, 1);
    expect(stale.rejected).toEqual([{ field: 'phone', reason: 'conflict' }]);
  });

  it('makes no new version when nothing changes', () => {
    const v1 = write(undefined, 'admin', { name: 'A' }).profile;
    const out = write(v1, 'user', { name: 'A', absent: null });
    expect(out.changed).toBe(false);
    expect(out.profile).toBe(v1);
  });

  it('creates nothing for a new user whose every field is rejected', () => {
    const out = write(undefined, 'user', { role: 'admin' });
    expect(out.changed).toBe(false);
    expect(out.profile.version).toBe(0);
  });

  it('refuses a baseVersion ahead of the current version', () => {
    const v1 = write(undefined, 'admin', { a: 1 }).profile;
    expect(
      mergeProfileWrite(
        v1,
        { userId: 'u1', data: { a: 2 }, writer: 'user', baseVersion: 5, now: T0 },
        PROTECTED,
      ),
    ).toEqual({
      kind: 'base-ahead',
      currentVersion: 1,
    });
  });

  it('never mutates the current profile', () => {
    const v1 = write(undefined, 'admin', { a: 1, b: { c: 2 } }).profile;
    const snapshot = JSON.stringify(v1);
    write(v1, 'admin', { a: 2, b: null, d: 4 });
    expect(JSON.stringify(v1)).toBe(snapshot);
  });

  const fieldName = fc.constantFrom('name', 'email', 'role', 'permissions', 'status', 'city', 'bio', 'plan');
  const value = fc.oneof(fc.constant(null), fc.string({ maxLength: 5 }), fc.integer(), fc.boolean());
  const writeArb = fc.record({
    writer: fc.constantFrom<WriterRole>('admin', 'user', 'service'),
    data: fc.dictionary(fieldName, value, { minKeys: 1, maxKeys: 5 }),
    useBase: fc.boolean(),
  });

  it('property: a non-admin write never changes a protected field', () => {
    fc.assert(
      fc.property(
        fc.array(writeArb, { maxLength: 8 }),
        writeArb.filter((w) => w.writer !== 'admin'),
        (history, last) => {
          let profile: UserProfile | undefined;
          for (const w of history) {
            const out = mergeProfileWrite(
              profile,
              { userId: 'u', data: w.data, writer: w.writer, now: T0 },
              PROTECTED,
            );
            if (out.kind === 'merged' && out.changed) profile = out.profile;
          }
          const out = mergeProfileWrite(
            profile,
            {
              userId: 'u',
              data: last.data,
              writer: last.writer,
              baseVersion: last.useBase ? 0 : undefined,
              now: T0,
            },
            PROTECTED,
          );
          if (out.kind !== 'merged') return;
          for (const field of PROTECTED) {
            expect(out.profile.data[field]).toEqual(profile?.data[field]);
            expect(out.profile.fields[field]).toEqual(profile?.fields[field]);
          }
        },
      ),
    );
  });

  it('property: every field is either applied or rejected, and applied values are in the result', () => {
    fc.assert(
      fc.property(writeArb, writeArb, (first, second) => {
        const a = mergeProfileWrite(
          undefined,
          { userId: 'u', data: first.data, writer: first.writer, now: T0 },
          PROTECTED,
        );
        const base = a.kind === 'merged' && a.changed ? a.profile : undefined;
        const out = merged(
          mergeProfileWrite(
            base,
            {
              userId: 'u',
              data: second.data,
              writer: second.writer,
              baseVersion: second.useBase ? 0 : undefined,
              now: T0,
            },
            PROTECTED,
          ),
        );
        const named = Object.keys(second.data).sort();
        expect([...out.applied, ...out.rejected.map((r) => r.field)].sort()).toEqual(named);
        for (const field of out.applied) {
          const v = second.data[field];
          if (v === null) expect(Object.hasOwn(out.profile.data, field)).toBe(false);
          else expect(out.profile.data[field]).toEqual(v);
        }
      }),
    );
  });
});
