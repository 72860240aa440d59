import { SEARCH_EMAIL_FIELDS, SEARCH_NAME_FIELDS, SEARCH_TITLE_FIELDS } from '../../domain/admin/enrichment';
import type { JsonValue } from '../../domain/json';
import type { UserProfile } from '../../domain/user-profile';
import {
  isStoreError,
  type DocumentCollection,
  type FieldCondition,
  type QueryFilter,
} from '../../ports/document-store';
import { ServiceError } from '../errors';
import type { SyncResult, SyncService } from '../sync-service';
import type { UserListQuery } from './admin-schemas';

/** The type of profile documents (sync-service.ts). */
const PROFILE_TYPE = 'user';
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface AdminUserRow {
  userId: string;
  data: Record<string, JsonValue>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface AdminUserPage {
  users: AdminUserRow[];
  /** Pass back as `cursor` for the next page; null on the last. */
  next: string | null;
  limit: number;
  sort: 'userId' | 'createdAt' | 'updatedAt';
  order: 'asc' | 'desc';
  /** Cosmos DB request units this page cost, when the store reports them (null otherwise). */
  requestCharge: number | null;
}

/**
 * GET /api/admin/users and POST /api/admin/users (issue 14 item 1). The listing is one store query
 * over the profile documents — type `user`, live ones only — with conditions for the search and
 * filters, ordered by a sortable field with keyset paging, so a page resumes exactly after the last
 * user it returned however many users are written meanwhile. Creating a user is an admin sync that
 * refuses an existing user; updates and deletes are the ordinary sync and delete.
 */
export class AdminUsersService {
  constructor(
    private readonly profiles: DocumentCollection,
    private readonly sync: SyncService,
  ) {}

  async list(query: UserListQuery): Promise<AdminUserPage> {
    const limit = Math.min(query.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const sort = query.sort ?? 'userId';
    const order = query.order ?? 'asc';
    const filter: QueryFilter = {
      type: PROFILE_TYPE,
      conditions: conditionsOf(query),
      orderBy: { path: [sort], direction: order },
      limit,
      ...(query.cursor !== undefined ? { continuation: query.cursor } : {}),
    };
    try {
      const page = await this.profiles.query<UserProfile>(filter);
      return {
        users: page.items.map(({ body }) => ({
          userId: body.userId,
          data: body.data,
          version: body.version,
          createdAt: body.createdAt,
          updatedAt: body.updatedAt,
        })),
        next: page.continuation ?? null,
        limit,
        sort,
        order,
        requestCharge: page.requestCharge ?? null,
      };
    } catch (error) {
      if (isStoreError(error, 'invalid') && query.cursor !== undefined) {
        throw new ServiceError('validation', 'The cursor is not valid for this listing.', [
          {
            path: 'cursor',
            message: 'must be a cursor returned by an earlier page with the same sort and order',
          },
        ]);
      }
      throw error;
    }
  }

  /** Creates a user with an admin write (409 when the user exists); the answer is the sync's. */
  async create(userId: string, data: Record<string, JsonValue>, idempotencyId?: string): Promise<SyncResult> {
    return this.sync.sync(userId, { data }, 'admin', {
      createOnly: true,
      ...(idempotencyId !== undefined ? { idempotencyId } : {}),
    });
  }
}

/** The store conditions of a listing: live profiles, then each search term and filter given. */
export function conditionsOf(query: UserListQuery): FieldCondition[] {
  const conditions: FieldCondition[] = [{ path: ['deleted'], op: 'ne', value: true }];
  if (query.idPrefix !== undefined)
    conditions.push({ path: ['userId'], op: 'startsWith', value: query.idPrefix });
  if (query.q !== undefined) {
    const fields = [...new Set([...SEARCH_NAME_FIELDS, ...SEARCH_EMAIL_FIELDS, ...SEARCH_TITLE_FIELDS])];
    conditions.push({ op: 'containsText', paths: fields.map((f) => ['data', f]), value: query.q });
  }
  if (query.createdAfter !== undefined)
    conditions.push({ path: ['createdAt'], op: 'gte', value: iso(query.createdAfter) });
  if (query.createdBefore !== undefined)
    conditions.push({ path: ['createdAt'], op: 'lt', value: iso(query.createdBefore) });
  if (query.updatedAfter !== undefined)
    conditions.push({ path: ['updatedAt'], op: 'gte', value: iso(query.updatedAfter) });
  if (query.updatedBefore !== undefined)
    conditions.push({ path: ['updatedAt'], op: 'lt', value: iso(query.updatedBefore) });
  if (query.field !== undefined && query.value !== undefined) {
    const value =
      query.valueType === 'number'
        ? Number(query.value)
        : query.valueType === 'boolean'
          ? query.value === 'true'
          : query.value;
    conditions.push({ path: ['data', query.field], op: 'eq', value });
  }
  return conditions;
}

/** Profiles store times as UTC ISO strings (toISOString), so a bound is compared in that form. */
const iso = (time: string) => new Date(time).toISOString();
