import { randomBytes } from 'node:crypto';
import {
  isStoreError,
  type DocumentCollection,
  type QueryFilter,
  type QueryPage,
} from '../ports/document-store';
import { userIdFor } from './access-policy';
import { ServiceError } from './errors';
import type { Principal } from './principal';

/**
 * What the career services share: where a user's career records live, and which user a request is
 * for. A user's resumes, coaching sessions and applications sit in one partition,
 * `career:<userId>`, so each change commits with its event in one transactional batch (the outbox);
 * a record is found by its id alone through a query on its `id` field.
 */

export const careerPartition = (userId: string) => `career:${userId}`;
export const careerEventSource = (userId: string) => `/bridge/career/${encodeURIComponent(userId)}`;

/** A fresh record id: `<prefix>_` and 24 hex digits (a valid store id and path parameter). */
export const newRecordId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * The user a request is about (access-policy.ts `userIdFor`): an end user's own id when they name
 * none, 403 when they name someone else; a key or app-role token must name one (400 otherwise).
 * `what` completes "You may not … of user X".
 */
export function requestedUser(principal: Principal, userId: string | undefined, what: string): string {
  const target = userIdFor(principal, userId, what);
  if (target === undefined) {
    throw new ServiceError('validation', 'Name the user: userId is required.', [
      { path: 'userId', message: 'is required' },
    ]);
  }
  return target;
}

/** Reads a request body up to `maxBytes`: 413 beyond it (nothing else is read). */
export async function readBounded(
  body: AsyncIterable<Uint8Array> | null,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (body) {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        throw new ServiceError('payload-too-large', `The ${what} exceeds the limit of ${maxBytes} bytes.`);
      }
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  }
  return Buffer.concat(chunks, size);
}

/** A query page; a continuation the store does not recognise is the caller's 400, never a 500. */
export async function queryPage<T>(store: DocumentCollection, filter: QueryFilter): Promise<QueryPage<T>> {
  try {
    return await store.query<T>(filter);
  } catch (error) {
    if (filter.continuation !== undefined && isStoreError(error, 'invalid')) {
      throw new ServiceError('validation', 'The continuation is not valid.', [
        { path: 'continuation', message: 'must be the `next` value of an earlier page' },
      ]);
    }
    throw error;
  }
}
