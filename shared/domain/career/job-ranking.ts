/**
 * Ranking job postings (pure; no I/O).
 *
 * **Search relevance** of a posting for a query:
 *
 *     relevance = TITLE_WEIGHT × BM25(query, title) + BM25(query, text)
 *               + SKILL_WEIGHT × skillOverlap + DISTANCE_WEIGHT × (1 − distance / radius)
 *
 * - BM25 (Robertson/Spärck Jones, k1 = 1.2, b = 0.75) is computed per field over the postings in
 *   the store, each field with its own document frequencies and average length; idf =
 *   ln(1 + (N − df + 0.5) / (df + 0.5)).
 * - skillOverlap = the share of the asked skills the posting lists (0 when none are asked).
 * - the distance term applies when a location is given: postings within the radius score more the
 *   closer they are; remote postings count as distance 0 from anywhere.
 * - Filters (not scores): within the radius (or remote), seniority in the list, remote mode in the
 *   list. With query text, only postings that contain a query term or an asked skill are results.
 * - Ties: newer `postedAt` first, then id.
 *
 * **Match** of a posting for a user (GET /api/jobs/matches):
 *
 *     match = 100 × (0.7 × skillCoverage + 0.2 × titleRelevance + 0.1 × seniorityFit)
 *
 * - skillCoverage = |user skills ∩ posting skills| / |posting skills|;
 * - titleRelevance = BM25 of the user's titles (current and target) over posting titles, divided by
 *   the best such score among the postings (so 0..1);
 * - seniorityFit = 1 when the posting's seniority is within one rank of the user's, 0.5 within two
 *   or when either is unknown, else 0.
 * The weights are editorial choices stated here, not fitted to data.
 */
import { SENIORITY_RANK, type Seniority } from '../job-titles/taxonomy-schema';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;
export const TITLE_WEIGHT = 2;
export const SKILL_WEIGHT = 3;
export const DISTANCE_WEIGHT = 0.5;
export const MATCH_WEIGHTS = Object.freeze({ skills: 0.7, title: 0.2, seniority: 0.1 });
/** Distinct terms kept per field of a posting. */
export const MAX_TERMS_PER_FIELD = 2000;

export const REMOTE_MODES = ['remote', 'hybrid', 'onsite'] as const;
export type RemoteMode = (typeof REMOTE_MODES)[number];

const STOP_WORDS = new Set(
  'a an and are as at be by for from has have in is it its of on or our the their to we will with you your this that these those who which what our us'.split(
    ' ',
  ),
);

/** Search terms: lower case, split on anything but letters, digits, + and #, stop words out, a plural s off. */
export function searchTerms(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}+#]+/u)
    .filter((t) => t.length > 0 && !STOP_WORDS.has(t))
    .map((t) => (t.length > 3 && t.endsWith('s') && !t.endsWith('ss') ? t.slice(0, -1) : t));
}

export interface FieldTerms {
  /** term → frequency in the field */
  tf: Record<string, number>;
  /** Terms in the field (with repeats). */
  length: number;
}

export function fieldTerms(text: string): FieldTerms {
  const tf: Record<string, number> = {};
  const terms = searchTerms(text);
  let distinct = 0;
  for (const t of terms) {
    if (Object.hasOwn(tf, t)) tf[t] = (tf[t] as number) + 1;
    else if (distinct < MAX_TERMS_PER_FIELD) {
      tf[t] = 1;
      distinct++;
    }
  }
  return { tf, length: terms.length };
}

export interface RankablePosting {
  id: string;
  title: FieldTerms;
  text: FieldTerms;
  skills: readonly string[];
  seniority: Seniority | null;
  remote: RemoteMode;
  location: { lat: number; lon: number } | null;
  postedAt: string | null;
}

interface FieldStats {
  df: Map<string, number>;
  avgLength: number;
}

function fieldStats(fields: readonly FieldTerms[]): FieldStats {
  const df = new Map<string, number>();
  let total = 0;
  for (const f of fields) {
    total += f.length;
    for (const t of Object.keys(f.tf)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  return { df, avgLength: fields.length > 0 ? total / fields.length : 0 };
}

/** BM25 statistics over a set of postings (title and text separately). */
export class PostingCorpus {
  readonly size: number;
  private readonly title: FieldStats;
  private readonly text: FieldStats;

  constructor(readonly postings: readonly RankablePosting[]) {
    this.size = postings.length;
    this.title = fieldStats(postings.map((p) => p.title));
    this.text = fieldStats(postings.map((p) => p.text));
  }

  bm25(field: 'title' | 'text', terms: readonly string[], doc: FieldTerms): number {
    const stats = field === 'title' ? this.title : this.text;
    if (doc.length === 0 || stats.avgLength === 0) return 0;
    let score = 0;
    for (const term of new Set(terms)) {
      const tf = Object.hasOwn(doc.tf, term) ? (doc.tf[term] as number) : 0;
      if (tf === 0) continue;
      const df = stats.df.get(term) ?? 0;
      const idf = Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
      score +=
        (idf * tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * doc.length) / stats.avgLength));
    }
    return score;
  }
}

const EARTH_RADIUS_KM = 6371.0088;

export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface SearchQuery {
  text: string;
  skills: readonly string[];
  near?: { lat: number; lon: number; radiusKm: number };
  seniority?: readonly Seniority[];
  remote?: readonly RemoteMode[];
}

export interface SearchHit {
  id: string;
  relevance: number;
  components: { title: number; text: number; skills: number; distance: number };
  matchedSkills: string[];
  distanceKm: number | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function byRelevance(
  corpus: PostingCorpus,
): (a: { relevance: number; id: string }, b: { relevance: number; id: string }) => number {
  const posted = new Map(corpus.postings.map((p) => [p.id, p.postedAt ?? '']));
  return (a, b) => {
    if (b.relevance !== a.relevance) return b.relevance - a.relevance;
    const pa = posted.get(a.id) ?? '';
    const pb = posted.get(b.id) ?? '';
    if (pa !== pb) return pa < pb ? 1 : -1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

/** Every posting that passes the filters, ranked (see the module comment). */
export function searchPostings(corpus: PostingCorpus, query: SearchQuery): SearchHit[] {
  const terms = searchTerms(query.text);
  const wanted = new Set(query.skills);
  const hits: SearchHit[] = [];
  for (const p of corpus.postings) {
    if (
      query.seniority &&
      query.seniority.length > 0 &&
      (p.seniority === null || !query.seniority.includes(p.seniority))
    )
      continue;
    if (query.remote && query.remote.length > 0 && !query.remote.includes(p.remote)) continue;
    let distanceKm: number | null = null;
    let distance = 0;
    if (query.near) {
      if (p.remote === 'remote') distanceKm = 0;
      else if (p.location) distanceKm = haversineKm(query.near, p.location);
      if (distanceKm === null || distanceKm > query.near.radiusKm) continue;
      distance = DISTANCE_WEIGHT * (1 - distanceKm / Math.max(query.near.radiusKm, 1e-9));
    }
    const title = TITLE_WEIGHT * corpus.bm25('title', terms, p.title);
    const text = corpus.bm25('text', terms, p.text);
    const matchedSkills = p.skills.filter((s) => wanted.has(s));
    const skills = wanted.size > 0 ? (SKILL_WEIGHT * matchedSkills.length) / wanted.size : 0;
    if ((terms.length > 0 || wanted.size > 0) && title + text + skills === 0) continue;
    hits.push({
      id: p.id,
      relevance: round3(title + text + skills + distance),
      components: {
        title: round3(title),
        text: round3(text),
        skills: round3(skills),
        distance: round3(distance),
      },
      matchedSkills,
      distanceKm: distanceKm === null ? null : Math.round(distanceKm * 10) / 10,
    });
  }
  return hits.sort(byRelevance(corpus));
}

export interface Candidate {
  skills: readonly string[];
  /** Current and target titles (their words are matched against posting titles). */
  titles: readonly string[];
  seniority: Seniority | null;
}

export interface MatchHit {
  id: string;
  /** 0..100 */
  score: number;
  components: { skillCoverage: number; titleRelevance: number; seniorityFit: number };
  matchedSkills: string[];
  missingSkills: string[];
}

export function seniorityFit(a: Seniority | null, b: Seniority | null): number {
  if (a === null || b === null) return 0.5;
  const gap = Math.abs(SENIORITY_RANK[a] - SENIORITY_RANK[b]);
  return gap <= 1 ? 1 : gap <= 2 ? 0.5 : 0;
}

/** Postings ranked for a candidate; a posting with no skill in common and no title word in common is left out. */
export function matchPostings(corpus: PostingCorpus, candidate: Candidate): MatchHit[] {
  const have = new Set(candidate.skills);
  const terms = candidate.titles.flatMap((t) => searchTerms(t));
  const titleScores = corpus.postings.map((p) => corpus.bm25('title', terms, p.title));
  const best = Math.max(0, ...titleScores);
  const hits: MatchHit[] = [];
  corpus.postings.forEach((p, i) => {
    const matchedSkills = p.skills.filter((s) => have.has(s));
    const missingSkills = p.skills.filter((s) => !have.has(s));
    const titleRelevance = best > 0 ? (titleScores[i] as number) / best : 0;
    if (matchedSkills.length === 0 && titleRelevance === 0) return;
    const skillCoverage = p.skills.length > 0 ? matchedSkills.length / p.skills.length : 0;
    const fit = seniorityFit(candidate.seniority, p.seniority);
    const score =
      100 *
      (MATCH_WEIGHTS.skills * skillCoverage +
        MATCH_WEIGHTS.title * titleRelevance +
        MATCH_WEIGHTS.seniority * fit);
    hits.push({
      id: p.id,
      score: Math.round(score * 10) / 10,
      components: {
        skillCoverage: round3(skillCoverage),
        titleRelevance: round3(titleRelevance),
        seniorityFit: fit,
      },
      matchedSkills,
      missingSkills,
    });
  });
  const order = byRelevance(corpus);
  return hits.sort((a, b) => order({ relevance: a.score, id: a.id }, { relevance: b.score, id: b.id }));
}
