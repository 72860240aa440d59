import { BlobStoreError } from '../ports/blob-store';

/**
 * Listing continuation tokens shared by the blob adapters: the adapter's resume position, bound to
 * the listing's prefix, so a token from another listing (or a made-up one) is refused rather than
 * silently listing from an arbitrary position.
 */
export function encodeListingContinuation(position: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 1, at: position, p: prefix }), 'utf8').toString('base64url');
}

/** The position a token carries; `accept` lets an adapter check it further (e.g. a safe path). */
export function decodeListingContinuation(
  token: string,
  prefix: string,
  accept: (position: string) => boolean = () => true,
): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: unknown;
      at?: unknown;
      p?: unknown;
    };
    if (
      parsed.v === 1 &&
      typeof parsed.at === 'string' &&
      parsed.at !== '' &&
      parsed.p === prefix &&
      accept(parsed.at)
    ) {
      return parsed.at;
    }
  } catch {
    // fall through to the error below
  }
  throw new BlobStoreError('invalid-continuation', 'The continuation token is not valid.');
}
