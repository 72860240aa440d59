/** The seed's sync health bands over the server-side success rate. */
export type HealthBand = 'EXCELLENT' | 'GOOD' | 'WARNING' | 'CRITICAL' | 'NO_DATA';

export function healthBand(successRate: number | null): HealthBand {
  if (successRate === null) return 'NO_DATA';
  if (successRate >= 0.99) return 'EXCELLENT';
  if (successRate >= 0.95) return 'GOOD';
  if (successRate >= 0.8) return 'WARNING';
  return 'CRITICAL';
}
