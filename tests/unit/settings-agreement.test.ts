import * as fs from 'node:fs';
import * as path from 'node:path';
import { SETTING_NAMES } from '../../shared/config';

const root = path.join(__dirname, '../..');
const example = JSON.parse(fs.readFileSync(path.join(root, 'local.settings.example.json'), 'utf8')) as {
  Values: Record<string, string>;
  Settings: Record<string, string>;
};
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('settings agree across config.ts, local.settings.example.json and README.md', () => {
  it.each(SETTING_NAMES)('%s is in the example settings, described, and in the README', (name) => {
    expect(example.Values).toHaveProperty(name);
    expect(example.Settings[name]?.length).toBeGreaterThan(10);
    expect(readme).toContain(`\`${name}\``);
  });

  it('the example documents nothing that config.ts does not read, except the Functions host settings', () => {
    const hostSettings = new Set(['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage']);
    const extra = Object.keys(example.Values).filter(
      (n) => !hostSettings.has(n) && !(SETTING_NAMES as string[]).includes(n),
    );
    expect(extra).toEqual([]);
    expect(Object.keys(example.Settings).sort()).toEqual(Object.keys(example.Values).sort());
  });

  it('the example values parse with config.ts', () => {
    const { loadConfig } = jest.requireActual<typeof import('../../shared/config')>('../../shared/config');
    expect(() => loadConfig({ ...example.Values, BRIDGE_ADMIN_KEY: 'x'.repeat(32) })).not.toThrow();
  });
});
