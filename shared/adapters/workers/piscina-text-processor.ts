import { Piscina } from 'piscina';
import type { ResumeFormat } from '../../domain/career/resume';
import {
  TextProcessorBusyError,
  type ExtractedDocument,
  type ExtractionFailure,
  type ExtractionLimits,
  type LanguageCode,
  type LanguageGuess,
  type LocalKeyPhrases,
  type LocalSentiment,
  type TextProcessor,
} from '../../ports/text-processor';
import { workerModule } from './worker-module';

export interface PiscinaTextProcessorOptions {
  /** Worker threads at most (they start on demand and exit when idle). */
  threads: number;
  /** Tasks waiting for a thread at most; beyond it a call fails with TextProcessorBusyError. */
  maxQueue: number;
  /** A task running longer is aborted (its thread is replaced). */
  timeoutMs: number;
  /** Heap of each worker thread, in MB: a decompression bomb kills its thread, not the bridge. */
  maxHeapMb: number;
}

/**
 * TextProcessor on a piscina pool of worker threads. The tasks are in text-tasks (see
 * workerModule).
 *
 * A task that runs past `timeoutMs` is aborted (piscina terminates its thread) and reported as an
 * extraction failure `timeout`; a thread that dies (out of memory) as `resource-limit`.
 */
export class PiscinaTextProcessor implements TextProcessor {
  private readonly pool: Piscina;

  constructor(private readonly options: PiscinaTextProcessorOptions) {
    this.pool = new Piscina({
      ...workerModule(__filename, 'text-tasks'),
      minThreads: 0,
      maxThreads: options.threads,
      maxQueue: options.maxQueue,
      idleTimeout: 30_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
    });
  }

  async extractDocument(
    bytes: Uint8Array,
    format: ResumeFormat,
    limits: ExtractionLimits,
  ): Promise<ExtractedDocument | ExtractionFailure> {
    try {
      return (await this.run('extractDocumentTask', { bytes, format, limits })) as
        ExtractedDocument | ExtractionFailure;
    } catch (error) {
      if (error instanceof TextProcessorBusyError) throw error;
      if (isAbort(error)) {
        return {
          ok: false,
          reason: 'timeout',
          message: `Reading the document took longer than ${this.options.timeoutMs} ms; it was abandoned.`,
        };
      }
      return {
        ok: false,
        reason: 'resource-limit',
        message: `Reading the document exceeded the worker's limits (${(error as Error).message}).`,
      };
    }
  }

  async sentiment(text: string): Promise<LocalSentiment> {
    return (await this.run('sentimentTask', { text })) as LocalSentiment;
  }

  async keyPhrases(text: string, max: number): Promise<LocalKeyPhrases> {
    return (await this.run('keyPhrasesTask', { text, max })) as LocalKeyPhrases;
  }

  async language(text: string): Promise<LanguageGuess> {
    return (await this.run('languageTask', { text })) as LanguageGuess;
  }

  async languageCode(text: string): Promise<LanguageCode | null> {
    return (await this.run('languageCodeTask', { text })) as LanguageCode | null;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async run(name: string, task: unknown): Promise<unknown> {
    if (this.pool.queueSize >= this.options.maxQueue) throw new TextProcessorBusyError();
    try {
      return await this.pool.run(task, { name, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      if (/queue is at limit/i.test((error as Error).message ?? '')) throw new TextProcessorBusyError();
      throw error;
    }
  }
}

function isAbort(error: unknown): boolean {
  const e = error as { name?: string; code?: string; message?: string };
  return e.name === 'AbortError' || e.code === 'ABORT_ERR' || /abort/i.test(e.message ?? '');
}
