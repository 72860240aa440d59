import type { ResumeFormat, ResumeSections } from '../domain/career/resume';
import type { ScoredPhrase, SentimentLabel } from '../domain/text/analytics';

/**
 * CPU-heavy text work, off the event loop (a worker-thread pool in production): reading the text
 * out of PDF and DOCX files, and the local text analytics (AFINN sentiment, franc language
 * detection, RAKE key phrases). Every call is bounded in time; a file that cannot be read is an
 * ExtractionFailure naming why, never an exception.
 */

/** A language as ISO 639-1 (tinyld) with the detector's accuracy (0..1): what profile enrichment reports. */
export interface LanguageCode {
  code: string;
  accuracy: number;
}

export interface LanguageGuess {
  /** ISO 639-3 code (franc), or `und` when the text is too short or unlike any language known. */
  language: string;
  /** 1 − the runner-up's relative score: how clearly the best guess beat the next one (0..1). */
  margin: number;
  alternatives: { language: string; score: number }[];
}

export interface ExtractedDocument {
  ok: true;
  text: string;
  /** Characters of text before truncation. */
  extractedChars: number;
  truncated: boolean;
  /** PDF: pages in the file (text is read from at most `maxPages`). */
  pages?: number;
  language: LanguageGuess;
  sections: ResumeSections;
}

export type ExtractionFailureReason =
  'corrupt' | 'encrypted' | 'no-text' | 'not-utf8' | 'timeout' | 'resource-limit';

export interface ExtractionFailure {
  ok: false;
  reason: ExtractionFailureReason;
  message: string;
}

export interface ExtractionLimits {
  /** Text kept (characters); the rest is cut and `truncated` set. */
  maxChars: number;
  /** PDF pages read. */
  maxPages: number;
}

export interface LocalSentiment {
  label: SentimentLabel;
  /** AFINN comparative score scaled to [-1, 1]. */
  score: number;
  /** Summed AFINN word scores. */
  afinnScore: number;
  tokens: number;
  positiveWords: string[];
  negativeWords: string[];
  language: LanguageGuess;
}

export interface LocalKeyPhrases {
  phrases: ScoredPhrase[];
  /** ISO 639-1 code of the stop-word list used. */
  stopwords: string;
  language: LanguageGuess;
}

export interface TextProcessor {
  extractDocument(
    bytes: Uint8Array,
    format: ResumeFormat,
    limits: ExtractionLimits,
  ): Promise<ExtractedDocument | ExtractionFailure>;
  sentiment(text: string): Promise<LocalSentiment>;
  keyPhrases(text: string, max: number): Promise<LocalKeyPhrases>;
  language(text: string): Promise<LanguageGuess>;
  /** The likeliest language as an ISO 639-1 code (tinyld) with its accuracy; null when none is found. */
  languageCode(text: string): Promise<LanguageCode | null>;
  close(): Promise<void>;
}

/** The pool is saturated (more queued tasks than it takes): the caller should retry shortly. */
export class TextProcessorBusyError extends Error {
  constructor(message = 'the text worker pool is busy') {
    super(message);
    this.name = 'TextProcessorBusyError';
  }
}
