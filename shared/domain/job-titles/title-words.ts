/**
 * The word tables of job-title normalisation (see normalize.ts for the pipeline): spellings,
 * abbreviation expansions and joins, the neighbour words that decide what an ambiguous abbreviation
 * means, stop words, and the seniority and noise words stripped from either end of a title.
 */
import type { Seniority } from './taxonomy-schema';

function mapOf<V = string>(record: Record<string, V>): ReadonlyMap<string, V> {
  return new Map(Object.entries(record));
}

export const SPELLING: ReadonlyMap<string, string> = mapOf({
  centre: 'center',
  programme: 'program',
  programmes: 'programs',
  organisation: 'organization',
  organisational: 'organizational',
  labour: 'labor',
  behaviour: 'behavior',
  behavioural: 'behavioral',
  defence: 'defense',
  analyse: 'analyze',
  optimisation: 'optimization',
  colour: 'color',
  counsellor: 'counselor',
  counselling: 'counseling',
  modeller: 'modeler',
  principle: 'principal',
  orthopaedic: 'orthopedic',
  paediatric: 'pediatric',
  anaesthetist: 'anesthetist',
  localisation: 'localization',
  enrolment: 'enrollment',
  cheque: 'check',
  catalogue: 'catalog',
  licence: 'license',
  practise: 'practice',
});

/** Unconditional one-token expansions (abbreviations that mean one thing in a job title). */
export const EXPANSIONS: ReadonlyMap<string, string> = mapOf({
  sr: 'senior',
  snr: 'senior',
  jr: 'junior',
  jnr: 'junior',
  mgr: 'manager',
  mngr: 'manager',
  mgmt: 'management',
  dir: 'director',
  vp: 'vice president',
  svp: 'senior vice president',
  evp: 'executive vice president',
  avp: 'assistant vice president',
  asst: 'assistant',
  assoc: 'associate',
  exec: 'executive',
  coord: 'coordinator',
  spec: 'specialist',
  rep: 'representative',
  engr: 'engineer',
  swe: 'software engineer',
  sde: 'software development engineer',
  qa: 'quality assurance',
  qc: 'quality control',
  ux: 'user experience',
  ui: 'user interface',
  hr: 'human resources',
  it: 'information technology',
  ml: 'machine learning',
  ai: 'artificial intelligence',
  bi: 'business intelligence',
  pr: 'public relations',
  comms: 'communications',
  mktg: 'marketing',
  mkt: 'marketing',
  biz: 'business',
  ops: 'operations',
  sys: 'systems',
  sw: 'software',
  hw: 'hardware',
  intl: 'international',
  natl: 'national',
  govt: 'government',
  dept: 'department',
  svc: 'service',
  svcs: 'services',
  cust: 'customer',
  mech: 'mechanical',
  gm: 'general manager',
  infosec: 'information security',
  elec: 'electrical',
  fullstack: 'full stack',
  frontend: 'front end',
  backend: 'back end',
});

/** Two-token forms joined into one before expansion ("dev ops" → "devops"). */
export const JOINS: ReadonlyMap<string, string> = mapOf({
  'dev ops': 'devops',
  'sec ops': 'secops',
  'ml ops': 'mlops',
  'fin ops': 'finops',
  'biz ops': 'bizops',
  'rev ops': 'revops',
  'dev sec': 'devsec',
  'devsec ops': 'devsecops',
  'e commerce': 'ecommerce',
  'e learning': 'elearning',
  'co founder': 'cofounder',
  'post doc': 'postdoc',
  'web master': 'webmaster',
});

/*
 * Context of the ambiguous abbreviations (expandTokens): a next (or previous) word from these sets
 * picks the first meaning, e.g. "eng manager" → engineering, otherwise the second ("eng" → engineer).
 */
export const ENG_ENGINEERING_NEXT = new Set([
  'manager',
  'mgr',
  'director',
  'dir',
  'lead',
  'team',
  'vp',
  'head',
  'management',
  'leader',
  'operations',
  'ops',
  'org',
  'program',
]);
export const ENG_ENGINEERING_PREV = new Set([
  'of',
  'vp',
  'president',
  'director',
  'dir',
  'head',
  'svp',
  'evp',
]);
export const DEV_DEVELOPMENT_NEXT = new Set([
  'manager',
  'mgr',
  'director',
  'dir',
  'representative',
  'rep',
  'executive',
  'exec',
  'associate',
  'lead',
  'team',
  'officer',
  'specialist',
  'coordinator',
]);
export const DEV_DEVELOPMENT_PREV = new Set([
  'business',
  'biz',
  'product',
  'organizational',
  'software',
  'talent',
]);
export const ADMIN_ADMINISTRATIVE_NEXT = new Set([
  'assistant',
  'asst',
  'officer',
  'coordinator',
  'support',
  'clerk',
  'specialist',
  'manager',
  'mgr',
  'supervisor',
  'secretary',
  'associate',
  'executive',
  'services',
  'team',
]);
export const TECH_TECHNICAL_NEXT = new Set([
  'lead',
  'support',
  'writer',
  'director',
  'architect',
  'recruiter',
  'sales',
  'account',
  'consultant',
  'specialist',
  'program',
  'product',
  'trainer',
  'analyst',
]);
export const ACCT_ACCOUNT_NEXT = new Set([
  'manager',
  'mgr',
  'executive',
  'exec',
  'director',
  'representative',
  'rep',
  'coordinator',
  'management',
]);
export const PROD_PRODUCT_NEXT = new Set([
  'manager',
  'mgr',
  'designer',
  'owner',
  'marketing',
  'analyst',
  'lead',
]);

export const STOP_WORDS: ReadonlySet<string> = new Set([
  'of',
  'and',
  'the',
  'for',
  'to',
  'in',
  'a',
  'an',
  'with',
  'at',
  'on',
]);

export const LOWER_WORDS = new Set(['of', 'and', 'the', 'for', 'to', 'in', 'a', 'an', 'at', 'with', 'on']);

/** Seniority levels of the management track: seniority words qualify such a title without moving it. */
export const MANAGEMENT_TRACK: ReadonlySet<Seniority> = new Set<Seniority>([
  'manager',
  'director',
  'vp',
  'executive',
]);

/** Seniority words recognised at either end of a title (after expansion). */
export const SENIORITY_WORDS: ReadonlyArray<{ words: readonly string[]; level: Seniority }> = [
  { words: ['entry', 'level'], level: 'entry' },
  { words: ['mid', 'level'], level: 'mid' },
  { words: ['senior', 'staff'], level: 'lead' },
  { words: ['intern'], level: 'intern' },
  { words: ['internship'], level: 'intern' },
  { words: ['trainee'], level: 'intern' },
  { words: ['apprentice'], level: 'intern' },
  { words: ['junior'], level: 'entry' },
  { words: ['graduate'], level: 'entry' },
  { words: ['associate'], level: 'entry' },
  { words: ['entry'], level: 'entry' },
  { words: ['mid'], level: 'mid' },
  { words: ['intermediate'], level: 'mid' },
  { words: ['senior'], level: 'senior' },
  { words: ['lead'], level: 'lead' },
  { words: ['staff'], level: 'lead' },
  { words: ['principal'], level: 'principal' },
  { words: ['distinguished'], level: 'principal' },
];

/** Level markers accepted only at the end ("Software Engineer II", "Analyst 3"). */
export const LEVEL_SUFFIX: ReadonlyMap<string, Seniority> = mapOf<Seniority>({
  i: 'entry',
  ii: 'mid',
  iii: 'senior',
  iv: 'lead',
  v: 'principal',
  '1': 'entry',
  '2': 'mid',
  '3': 'senior',
  '4': 'lead',
  '5': 'principal',
  l1: 'entry',
  l2: 'entry',
  l3: 'mid',
  l4: 'senior',
  l5: 'senior',
  l6: 'lead',
  l7: 'principal',
});

/** Words that say nothing about the role; removed at either end. */
export const NOISE_WORDS: ReadonlyArray<readonly string[]> = [
  ['full', 'time'],
  ['part', 'time'],
  ['work', 'from', 'home'],
  ['on', 'site'],
  ['remote'],
  ['hybrid'],
  ['onsite'],
  ['fulltime'],
  ['parttime'],
  ['contract'],
  ['contractor'],
  ['temporary'],
  ['temp'],
  ['permanent'],
  ['freelance'],
  ['urgent'],
  ['w2'],
  ['1099'],
  ['wfh'],
  ['job'],
  ['position'],
  ['role'],
  ['opening'],
  ['vacancy'],
  ['new'],
  ['needed'],
  ['wanted'],
  ['hiring'],
];

/** Canonical word used to display / recompose a seniority level with a base title. */
export const LEVEL_PREFIX: Readonly<Partial<Record<Seniority, readonly string[]>>> = {
  entry: ['junior', 'associate', 'entry level', 'graduate'],
  senior: ['senior'],
  lead: ['lead', 'staff'],
  principal: ['principal'],
};
