// The plain-array JS histogram and its V2 encoding alone: the package's index (and its encoding
// module) also load its WebAssembly build, ~5 MB of resident memory that a bridge recording a few
// latencies does not need. Importing JsHistogram.encoding adds encodeIntoCompressedBase64 to JsHistogram.
// Float64, not packed: a packed histogram reads every bucket through its index (a percentile over
// one took ~45 ms, a GET /api/metrics ~200 ms of event loop); a dense one is 21,504 doubles (168 KiB).
import type { JsHistogram } from 'hdr-histogram-js/dist/JsHistogram';
import { decompress, doDecode } from 'hdr-histogram-js/dist/JsHistogram.encoding';
import Float64Histogram from 'hdr-histogram-js/dist/Float64Histogram';

export interface LatencySummary {
  count: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const HIGHEST_MICROS = 600_000_000;
const SIGNIFICANT_DIGITS = 3;

const newHistogram = (): JsHistogram => new Float64Histogram(1, HIGHEST_MICROS, SIGNIFICANT_DIGITS);

/**
 * The V2 header's layout fields (digits at byte 12, lowest at 16, highest at 24): a decoded
 * histogram is allocated from them, so only layouts no larger than this module's are accepted.
 */
function checkLayout(bytes: Uint8Array): void {
  if (bytes.byteLength < 40) throw new Error('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const digits = view.getInt32(12);
  const lowest = Number(view.getBigInt64(16));
  const highest = Number(view.getBigInt64(24));
  if (digits !== SIGNIFICANT_DIGITS || lowest < 1 || highest < 2 * lowest || highest > HIGHEST_MICROS) {
    throw new Error(`unexpected layout (${digits} digits, ${lowest}..${highest})`);
  }
}

/** Longest encoded histogram accepted by decode() (a full one compresses to a few KiB). */
export const MAX_ENCODED_HISTOGRAM_CHARS = 256 * 1024;

/** The library's `mean` walks an iterator object per bucket (~10 ms); the same sum over the array. */
function meanOf(h: JsHistogram): number {
  let total = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const count = h.getCountAtIndex(i);
    if (count > 0) total += h.medianEquivalentValue(h.valueFromIndex(i)) * count;
  }
  return total / h.totalCount;
}

/**
 * Latency percentiles from an HDR histogram (microsecond resolution, 3 significant digits,
 * up to 10 minutes), reported in milliseconds. Percentiles, not a moving average, because
 * tail latency is what a portal user feels.
 *
 * Histograms travel between instances as HdrHistogram's compressed base64 form (encode/decode)
 * and add up exactly (merge), so percentiles over several instances are those of all their
 * samples, not an average of their percentiles.
 */
export class LatencyHistogram {
  private readonly histogram = newHistogram();

  /** The histogram encode() produced; throws RangeError for anything else. */
  static decode(encoded: string): LatencyHistogram {
    if (encoded.length > MAX_ENCODED_HISTOGRAM_CHARS || !/^[A-Za-z0-9+/=]*$/.test(encoded)) {
      throw new RangeError('not an encoded histogram');
    }
    let decoded: JsHistogram;
    try {
      const bytes = decompress(Buffer.from(encoded.trim(), 'base64'));
      checkLayout(bytes);
      decoded = doDecode(bytes, 64);
    } catch (error) {
      throw new RangeError(`not an encoded histogram: ${(error as Error).message}`);
    }
    // Copied into the standard layout, so every histogram here has the same range and precision.
    const copy = new LatencyHistogram();
    copy.histogram.add(decoded);
    return copy;
  }

  recordMs(ms: number): void {
    const micros = Math.min(HIGHEST_MICROS, Math.max(1, Math.round(ms * 1000)));
    this.histogram.recordValue(micros);
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  /** HdrHistogram's compressed base64 form (V2 encoding, deflated). */
  encode(): string {
    return this.histogram.encodeIntoCompressedBase64();
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const ms = (micros: number) => Math.round(micros) / 1000;
    if (h.totalCount === 0) return { count: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count: h.totalCount,
      avg: ms(meanOf(h)),
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(h.maxValue),
    };
  }
}
