/**
 * The text work a worker thread does (see piscina-text-processor.ts): reading PDF (unpdf, the
 * PDF.js build for servers), DOCX (mammoth) and UTF-8 text, and the local analytics (AFINN-165
 * through `sentiment`, `franc-min`, `keyword-extractor` + RAKE). Plain functions over plain data.
 *
 * It runs only on worker threads: `franc-min` and unpdf's PDF.js are ES modules, which Node's
 * require() loads natively there.
 */
import { francAll } from 'franc-min';
import { extract as extractKeywords } from 'keyword-extractor';
import mammoth from 'mammoth';
import Sentiment from 'sentiment';
import { getDocumentProxy } from 'unpdf';
import { parseResumeSections, type ResumeFormat } from '../../domain/career/resume';
import {
  LANGUAGE_SAMPLE_CHARS,
  STOPWORD_LANGUAGES,
  clauses,
  normalisedSentiment,
  rakeKeyPhrases,
  sentimentLabel,
} from '../../domain/text/analytics';
import type {
  ExtractedDocument,
  ExtractionFailure,
  ExtractionLimits,
  LanguageCode,
  LanguageGuess,
  LocalKeyPhrases,
  LocalSentiment,
} from '../../ports/text-processor';

const MAX_ALTERNATIVES = 3;
/** Characters of a text tinyld looks at (a CV's first pages say which language it is in). */
const LANGUAGE_CODE_SAMPLE_CHARS = 20_000;
const sentimentAnalyser = new Sentiment();

const fail = (reason: ExtractionFailure['reason'], message: string): ExtractionFailure => ({
  ok: false,
  reason,
  message,
});

export function detectLanguage(text: string): LanguageGuess {
  const ranked = francAll(text.slice(0, LANGUAGE_SAMPLE_CHARS));
  const [best, second] = ranked;
  if (best === undefined || best[0] === 'und') return { language: 'und', margin: 0, alternatives: [] };
  return {
    language: best[0],
    margin: Math.round((1 - (second?.[1] ?? 0)) * 1000) / 1000,
    alternatives: ranked
      .slice(1, 1 + MAX_ALTERNATIVES)
      .map(([language, score]) => ({ language, score: Math.round(score * 1000) / 1000 })),
  };
}

async function pdfText(
  bytes: Uint8Array,
  maxPages: number,
): Promise<{ text: string; pages: number } | ExtractionFailure> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(bytes, { isEvalSupported: false, stopAtErrors: false, verbosity: 0 });
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (name === 'PasswordException') {
      return fail('encrypted', 'The PDF is protected by a password; upload it without the password.');
    }
    return fail('corrupt', `The file is not a readable PDF (${messageOf(error)}).`);
  }
  try {
    const pages: string[] = [];
    const read = Math.min(pdf.numPages, maxPages);
    for (let n = 1; n <= read; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let line = '';
      const lines: string[] = [];
      for (const item of content.items) {
        if (!('str' in item)) continue;
        line += item.str;
        if (item.hasEOL) {
          lines.push(line);
          line = '';
        }
      }
      if (line !== '') lines.push(line);
      pages.push(lines.join('\n'));
      page.cleanup();
    }
    return { text: pages.join('\n\n'), pages: pdf.numPages };
  } catch (error) {
    return fail('corrupt', `The PDF could not be read (${messageOf(error)}).`);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

async function docxText(bytes: Uint8Array): Promise<string | ExtractionFailure> {
  try {
    const { value } = await mammoth.extractRawText({
      buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    });
    return value;
  } catch (error) {
    return fail('corrupt', `The file is not a readable DOCX document (${messageOf(error)}).`);
  }
}

function utf8Text(bytes: Uint8Array): string | ExtractionFailure {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return fail('not-utf8', 'The text is not valid UTF-8; save it as UTF-8 and upload it again.');
  }
}

/** The text of a resume file with its sections and language, or why it cannot be read. */
export async function extractDocumentTask({
  bytes,
  format,
  limits,
}: {
  bytes: Uint8Array;
  format: ResumeFormat;
  limits: ExtractionLimits;
}): Promise<ExtractedDocument | ExtractionFailure> {
  let raw: string;
  let pages: number | undefined;
  if (format === 'pdf') {
    const read = await pdfText(bytes, limits.maxPages);
    if ('ok' in read) return read;
    raw = read.text;
    pages = read.pages;
  } else {
    const read = format === 'docx' ? await docxText(bytes) : utf8Text(bytes);
    if (typeof read !== 'string') return read;
    raw = read;
  }
  // Control characters other than line breaks and tabs never belong in resume text.
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const text = raw.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
  if (text.trim() === '') {
    return fail(
      'no-text',
      format === 'pdf'
        ? 'The PDF has no text layer (a scanned or image-only document); upload a text-based PDF or a DOCX.'
        : 'The document contains no text.',
    );
  }
  const truncated = text.length > limits.maxChars;
  const kept = truncated ? text.slice(0, limits.maxChars) : text;
  return {
    ok: true,
    text: kept,
    extractedChars: text.length,
    truncated,
    ...(pages !== undefined ? { pages } : {}),
    language: detectLanguage(kept),
    sections: parseResumeSections(kept),
  };
}

export function sentimentTask({ text }: { text: string }): LocalSentiment {
  const result = sentimentAnalyser.analyze(text);
  return {
    label: sentimentLabel(result.score),
    score: normalisedSentiment(result.comparative),
    afinnScore: result.score,
    tokens: result.tokens.length,
    positiveWords: [...new Set(result.positive)].slice(0, 50),
    negativeWords: [...new Set(result.negative)].slice(0, 50),
    language: detectLanguage(text),
  };
}

export function keyPhrasesTask({ text, max }: { text: string; max: number }): LocalKeyPhrases {
  const language = detectLanguage(text);
  const stopwords = STOPWORD_LANGUAGES[language.language] ?? 'en';
  const candidates = clauses(text).flatMap((clause) =>
    extractKeywords(clause, {
      // One of keyword-extractor's ISO 639-1 codes (STOPWORD_LANGUAGES lists only those).
      language: stopwords as 'en',
      remove_digits: false,
      return_changed_case: true,
      return_chained_words: true,
      remove_duplicates: false,
    }),
  );
  return { phrases: rakeKeyPhrases(candidates, max), stopwords, language };
}

export function languageTask({ text }: { text: string }): LanguageGuess {
  return detectLanguage(text);
}

/**
 * tinyld's word tables take ~33 MB and ~0.3 s to load: loaded by the first task that needs them, so
 * neither the bridge's main thread nor a worker that only reads documents carries them.
 */
let tinyld: Promise<typeof import('tinyld')> | undefined;

export async function languageCodeTask({ text }: { text: string }): Promise<LanguageCode | null> {
  tinyld ??= import('tinyld');
  const [best] = (await tinyld).detectAll(text.slice(0, LANGUAGE_CODE_SAMPLE_CHARS));
  return best ? { code: best.lang, accuracy: best.accuracy } : null;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 199)}…` : message;
}
