import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/container';
import type { Clock } from '../../shared/ports/clock';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** A controllable clock for TTL and timestamp tests. */
export class ManualClock implements Clock {
  constructor(public current = Date.parse('2026-01-01T00:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Real services over a fresh embedded store in a temp dir. */
export function makeTestServices(
  env: Record<string, string> = {},
  clock?: Clock,
): { services: Services; dataDir: string; cleanup: () => Promise<void> } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-test-'));
  const config = loadConfig({ BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY, BRIDGE_DATA_DIR: dataDir, ...env });
  const services = createServices(config, clock ? { clock } : {});
  return {
    services,
    dataDir,
    cleanup: async () => {
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
