import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** `source` piped through `transform`, with the source's failure passed on (pipe alone would leave the reader waiting). */
export function through(source: AsyncIterable<unknown>, transform: Transform): Transform {
  const readable = Readable.from(source);
  readable.once('error', (error) => transform.destroy(error));
  transform.once('close', () => readable.destroy());
  return readable.pipe(transform);
}

/**
 * Streaming NDJSON: bytes in, one line at a time out, in constant memory. A line longer than
 * `maxLineBytes` is reported as too long (its bytes are skipped, not kept) instead of growing a
 * buffer without bound. Gzip input is recognised by its magic bytes and inflated on the way.
 */

export type NdjsonLine =
  { kind: 'line'; number: number; text: string } | { kind: 'too-long'; number: number };

/** The stream, inflated when it starts with the gzip magic bytes (1f 8b). */
export async function* maybeGunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  // The first two bytes decide; they may arrive in separate chunks.
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  if (head.length === 0) return;
  const rest = (async function* () {
    yield head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield Buffer.from(next.value);
  })();
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* through(rest, createGunzip()) as AsyncIterable<Buffer>;
  } else {
    yield* rest;
  }
}

/** Lines of `source` (split on \n, a trailing \r dropped), numbered from 1. */
export async function* ndjsonLines(
  source: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<NdjsonLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let number = 0;
  const finish = (): NdjsonLine => {
    number += 1;
    if (tooLong) return { kind: 'too-long', number };
    let text = Buffer.concat(parts, size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { kind: 'line', number, text };
  };
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.length) {
      const newline = chunk.indexOf(0x0a, at);
      const end = newline < 0 ? chunk.length : newline;
      if (!tooLong) {
        size += end - at;
        if (size > maxLineBytes) {
          tooLong = true;
          parts = [];
        } else {
          parts.push(Buffer.from(chunk.subarray(at, end)));
        }
      }
      if (newline < 0) break;
      yield finish();
      parts = [];
      size = 0;
      tooLong = false;
      at = newline + 1;
    }
  }
  if (size > 0 || tooLong) yield finish();
}
