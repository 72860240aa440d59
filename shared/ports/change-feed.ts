import type { StoredDocument } from './document-store';

/**
 * Turns one item of the store's change feed, as the host's trigger hands it to a function (a Cosmos
 * DB item under the Cosmos DB trigger; the local host feeds the same shape), into the stored
 * document it is; undefined when the item is not a bridge document.
 */
export type ChangeFeedItemDecoder = (item: unknown) => StoredDocument | undefined;
