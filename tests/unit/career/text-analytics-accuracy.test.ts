/**
 * The local text analytics measured on labelled examples written for the project
 * (tests/fixtures/text): AFINN-165 sentiment, franc-min language detection and RAKE key phrases,
 * run as in production on the worker pool. The measured figures are printed; the assertions are
 * floors a regression would break (they are below the measured values, not targets).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PiscinaTextProcessor } from '../../../shared/adapters/workers/piscina-text-processor';

const dir = path.join(__dirname, '..', '..', 'fixtures', 'text');
const load = <T>(name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T;

const processor = new PiscinaTextProcessor({ threads: 1, maxQueue: 1000, timeoutMs: 60_000, maxHeapMb: 256 });
afterAll(() => processor.close());

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

it('sentiment (AFINN-165, sign of the summed word scores) on 40 labelled sentences', async () => {
  const examples = load<{ text: string; label: string }[]>('sentiment.json');
  const results = await Promise.all(examples.map((e) => processor.sentiment(e.text)));
  const correct = results.filter((r, i) => r.label === examples[i]?.label).length;
  const neutral = results.filter((r) => r.label === 'neutral').length;
  const accuracy = correct / examples.length;
  console.log(
    `local sentiment: accuracy ${pct(accuracy)} (${correct}/${examples.length}); answered neutral: ${neutral}`,
  );
  expect(accuracy).toBeGreaterThanOrEqual(0.75);
});

it('language (franc-min) on 36 labelled sentences in 12 languages', async () => {
  const examples = load<{ text: string; language: string }[]>('language.json');
  const results = await Promise.all(examples.map((e) => processor.language(e.text)));
  const wrong = results
    .map((r, i) => [examples[i]?.language, r.language] as const)
    .filter(([want, got]) => want !== got);
  const accuracy = (examples.length - wrong.length) / examples.length;
  console.log(
    `local language: accuracy ${pct(accuracy)} (${examples.length - wrong.length}/${examples.length}); misses: ${JSON.stringify(wrong)}`,
  );
  expect(accuracy).toBeGreaterThanOrEqual(0.8);
});

it('language codes (tinyld, what profile enrichment reports) on the same 36 sentences', async () => {
  const examples = load<{ text: string; language: string }[]>('language.json');
  // The fixtures name ISO 639-3 codes; tinyld answers ISO 639-1.
  const iso1: Record<string, string> = {
    deu: 'de',
    eng: 'en',
    fra: 'fr',
    ind: 'id',
    ita: 'it',
    nld: 'nl',
    pol: 'pl',
    por: 'pt',
    rus: 'ru',
    spa: 'es',
    swe: 'sv',
    tur: 'tr',
  };
  const results = await Promise.all(examples.map((e) => processor.languageCode(e.text)));
  const wrong = results
    .map((r, i) => [iso1[examples[i]?.language ?? ''], r?.code] as const)
    .filter(([want, got]) => want !== got);
  const accuracy = (examples.length - wrong.length) / examples.length;
  console.log(
    `language codes: accuracy ${pct(accuracy)} (${examples.length - wrong.length}/${examples.length}); misses: ${JSON.stringify(wrong)}`,
  );
  expect(accuracy).toBeGreaterThanOrEqual(0.8);
  expect(results.every((r) => r === null || (r.accuracy > 0 && r.accuracy <= 1))).toBe(true);
  expect(await processor.languageCode('')).toBeNull();
});

it('key phrases (RAKE over keyword-extractor candidates) on 8 labelled paragraphs', async () => {
  const examples = load<{ text: string; expected: string[] }[]>('key-phrases.json');
  let hits = 0;
  let returned = 0;
  let found = 0;
  let expectedTotal = 0;
  for (const e of examples) {
    const { phrases } = await processor.keyPhrases(e.text, 5);
    const got = phrases.map((p) => p.phrase);
    const matches = (phrase: string, key: string) =>
      phrase === key || phrase.includes(key) || key.includes(phrase);
    returned += got.length;
    hits += got.filter((g) => e.expected.some((k) => matches(g, k))).length;
    expectedTotal += e.expected.length;
    found += e.expected.filter((k) => got.some((g) => matches(g, k))).length;
  }
  const precision = hits / returned;
  const recall = found / expectedTotal;
  console.log(
    `local key phrases: precision@5 ${pct(precision)} (${hits}/${returned}), recall ${pct(recall)} (${found}/${expectedTotal})`,
  );
  expect(precision).toBeGreaterThanOrEqual(0.6);
  expect(recall).toBeGreaterThanOrEqual(0.5);
});
