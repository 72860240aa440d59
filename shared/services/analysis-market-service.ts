/**
 * Market trends for the geographic analysis, from the bridge's own data: how many user profiles name
 * a place within the radius in their `city` or `location` field, and how many of those are new.
 *
 * Profiles are matched to places by name only (case-, accent- and punctuation-insensitive; for a
 * location like "Oslo, Norway" the part before the first comma), so a profile in Paris, France counts
 * for a Paris, Texas inside the radius too; the result says so. The profile scan is bounded
 * (MARKET_SCAN_LIMIT) and cached per instance for MARKET_CACHE_MS.
 */
import { normalisePlaceName } from '../domain/analysis/geo';
import type { Clock } from '../ports/clock';
import type { DocumentCollection, JsonValue } from '../ports/document-store';
import type { MarketTrends } from './analysis-schemas';

/** Most profiles read per scan: bounds the cost of one geographic request on a large store. */
export const MARKET_SCAN_LIMIT = 10_000;
/** How long a scan is reused by this instance. */
export const MARKET_CACHE_MS = 60_000;
/** "New" profiles: created within this many days. */
export const TREND_WINDOW_DAYS = 30;
/** Places listed in `byPlace`. */
export const MARKET_TOP_PLACES = 20;
/** Document type of user profiles (shared/services/sync-service.ts). */
const PROFILE_TYPE = 'user';
const PAGE_SIZE = 500;

interface ProfileBody {
  data?: Record<string, JsonValue>;
  createdAt?: string;
  deleted?: boolean;
}

export interface PlaceCount {
  profiles: number;
  recent: number;
}

export interface ProfileLocations {
  /** Normalised place name → profiles naming it. */
  byName: Map<string, PlaceCount>;
  scanned: number;
  complete: boolean;
  withLocation: number;
  at: number;
}

/** The place a profile names: `city`, else `location` (a string, or an object with a `city`). */
export function profilePlace(data: Record<string, JsonValue> | undefined): string | null {
  if (!data) return null;
  const location = data.location;
  const raw =
    typeof data.city === 'string'
      ? data.city
      : typeof location === 'string'
        ? location
        : location &&
            typeof location === 'object' &&
            !Array.isArray(location) &&
            typeof location.city === 'string'
          ? location.city
          : null;
  if (raw === null) return null;
  const name = normalisePlaceName(raw.split(',')[0] ?? '');
  return name === '' ? null : name;
}

export class ProfileLocationIndex {
  private cached: ProfileLocations | undefined;
  private pending: Promise<ProfileLocations> | undefined;

  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
    private readonly options: { scanLimit?: number; cacheMs?: number } = {},
  ) {}

  async snapshot(): Promise<ProfileLocations> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < (this.options.cacheMs ?? MARKET_CACHE_MS)) return this.cached;
    // Concurrent requests share one scan.
    this.pending ??= this.scan().finally(() => {
      this.pending = undefined;
    });
    this.cached = await this.pending;
    return this.cached;
  }

  private async scan(): Promise<ProfileLocations> {
    const at = this.clock.now();
    const since = at - TREND_WINDOW_DAYS * 86_400_000;
    const limit = this.options.scanLimit ?? MARKET_SCAN_LIMIT;
    const byName = new Map<string, PlaceCount>();
    let scanned = 0;
    let withLocation = 0;
    let continuation: string | undefined;
    do {
      const page = await this.store.query<ProfileBody>({
        type: PROFILE_TYPE,
        limit: Math.min(PAGE_SIZE, limit - scanned),
        ...(continuation ? { continuation } : {}),
      });
      for (const doc of page.items) {
        scanned += 1;
        if (doc.body.deleted) continue;
        const place = profilePlace(doc.body.data);
        if (place === null) continue;
        withLocation += 1;
        const count = byName.get(place) ?? { profiles: 0, recent: 0 };
        count.profiles += 1;
        const created = doc.body.createdAt ? Date.parse(doc.body.createdAt) : NaN;
        if (created >= since) count.recent += 1;
        byName.set(place, count);
      }
      continuation = page.continuation;
    } while (continuation && scanned < limit);
    return { byName, scanned, complete: continuation === undefined, withLocation, at };
  }
}

/** Market trends over the places within the radius (`places`: every gazetteer place in it, with distance). */
export function marketTrends(
  locations: ProfileLocations,
  places: readonly { name: string; distanceKm: number }[],
): MarketTrends {
  if (locations.withLocation === 0) {
    return {
      available: false,
      reason:
        locations.scanned === 0
          ? 'No user profiles are stored yet.'
          : `None of the ${locations.scanned} user profiles read has a city or location field.`,
    };
  }
  // Each name once, at its nearest place.
  const nearest = new Map<string, { name: string; distanceKm: number }>();
  for (const p of places) {
    const key = normalisePlaceName(p.name);
    const seen = nearest.get(key);
    if (!seen || p.distanceKm < seen.distanceKm) nearest.set(key, p);
  }
  const byPlace: { name: string; distanceKm: number; profiles: number; newInWindow: number }[] = [];
  for (const [key, place] of nearest) {
    const count = locations.byName.get(key);
    if (count)
      byPlace.push({
        name: place.name,
        distanceKm: place.distanceKm,
        profiles: count.profiles,
        newInWindow: count.recent,
      });
  }
  if (byPlace.length === 0) {
    return {
      available: false,
      reason: `None of the ${locations.withLocation} user profiles with a city or location names a place within the radius.`,
    };
  }
  byPlace.sort(
    (a, b) => b.profiles - a.profiles || a.distanceKm - b.distanceKm || a.name.localeCompare(b.name),
  );
  const profilesInArea = byPlace.reduce((n, p) => n + p.profiles, 0);
  return {
    available: true,
    source: 'user profiles stored by the bridge (data.city or data.location)',
    profilesScanned: locations.scanned,
    complete: locations.complete,
    profilesWithLocation: locations.withLocation,
    profilesInArea,
    shareOfLocatedProfiles: profilesInArea / locations.withLocation,
    newInWindow: byPlace.reduce((n, p) => n + p.newInWindow, 0),
    windowDays: TREND_WINDOW_DAYS,
    byPlace: byPlace.slice(0, MARKET_TOP_PLACES),
    computedAt: new Date(locations.at).toISOString(),
    note:
      'Counts of the bridge’s own user profiles, matched to places by name only (a same-named place ' +
      'elsewhere counts too); a sample of the portals’ users, not of the labour market.',
  };
}
