/**
 * Hosting the event stream under the Functions host: HTTP streams are switched on once, inside the
 * worker only, and a stream ends before the host's functionTimeout (clients then resume).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../../shared/config';
import { appSettingEntries, functionAppModule, literalValue } from '../infra/infra-files';

const root = path.join(__dirname, '../../..');

function timeoutSeconds(): number {
  const host = JSON.parse(fs.readFileSync(path.join(root, 'host.json'), 'utf8')) as {
    functionTimeout: string;
  };
  const [h, m, s] = host.functionTimeout.split(':').map(Number) as [number, number, number];
  return h * 3600 + m * 60 + s;
}

describe('event streams under the Functions host', () => {
  it('end before functionTimeout, by default and as provisioned in Azure', () => {
    const limit = timeoutSeconds();
    expect(loadConfig({ BRIDGE_ADMIN_KEY: 'k'.repeat(32) }).stream.maxDurationMs / 1000).toBeLessThan(limit);
    const provisioned = appSettingEntries().find((e) => e.key === 'BRIDGE_STREAM_MAX_SECONDS');
    expect(Number(literalValue(functionAppModule, provisioned?.value ?? ''))).toBeLessThan(limit);
  });

  it('switch HTTP streams on inside the Functions worker, once, when the route module loads', () => {
    jest.isolateModules(() => {
      jest.doMock('@azure/functions-core', () => ({}), { virtual: true });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { app } = require('@azure/functions') as typeof import('@azure/functions');
      const setup = jest.spyOn(app, 'setup').mockImplementation(() => undefined);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../../shared/http/route');
      expect(setup).toHaveBeenCalledTimes(1);
      expect(setup).toHaveBeenCalledWith({ enableHttpStream: true });
      jest.dontMock('@azure/functions-core');
    });
  });

  it('leave the local host and tests alone (they stream natively)', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { app } = require('@azure/functions') as typeof import('@azure/functions');
      const setup = jest.spyOn(app, 'setup').mockImplementation(() => undefined);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../../shared/http/http-streams');
      expect(setup).not.toHaveBeenCalled();
    });
  });
});
