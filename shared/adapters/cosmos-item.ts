import type { StoredDocument } from '../ports/document-store';
import type { ChangeFeedItemDecoder } from '../ports/change-feed';

/**
 * How a bridge document is stored as a Cosmos DB item, and so how the Cosmos DB trigger hands it to
 * events-changefeed. The local host feeds the trigger the same shape from the embedded store.
 */
export interface CosmosItem {
  id: string;
  /** Partition key path /pk. */
  pk: string;
  type: string;
  body: unknown;
  /** Seconds; Cosmos per-item TTL. */
  ttl?: number;
  _etag?: string;
  /** Epoch seconds of the last write (Cosmos). */
  _ts?: number;
  /** Change-feed position of the last write. */
  _lsn?: number;
  /** Epoch ms of the write, kept by the bridge itself (Cosmos only has second resolution). */
  tsMs?: number;
  expiresAtMs?: number;
}

export function toCosmosItem(doc: StoredDocument): CosmosItem {
  return {
    id: doc.id,
    pk: doc.pk,
    type: doc.type,
    body: doc.body,
    _etag: doc.etag,
    _ts: Math.floor(doc.ts / 1000),
    tsMs: doc.ts,
    ...(doc.seq !== undefined ? { _lsn: doc.seq } : {}),
    ...(doc.expiresAt !== undefined ? { expiresAtMs: doc.expiresAt } : {}),
  };
}

export function isCosmosItem(value: unknown): value is CosmosItem {
  const v = value as Partial<CosmosItem> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.pk === 'string' &&
    typeof v.type === 'string'
  );
}

export function fromCosmosItem(item: CosmosItem): StoredDocument {
  return {
    id: item.id,
    pk: item.pk,
    type: item.type,
    body: item.body,
    etag: item._etag ?? '',
    ts: item.tsMs ?? (item._ts ?? 0) * 1000,
    ...(item._lsn !== undefined ? { seq: item._lsn } : {}),
    ...(item.expiresAtMs !== undefined ? { expiresAt: item.expiresAtMs } : {}),
  };
}

/** The change-feed decoder for Cosmos DB items (what the Cosmos DB trigger delivers). */
export const decodeCosmosItem: ChangeFeedItemDecoder = (item) =>
  isCosmosItem(item) ? fromCosmosItem(item) : undefined;
