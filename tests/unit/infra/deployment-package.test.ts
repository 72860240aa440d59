/**
 * What the deployment package holds (.funcignore, gitignore rules): the compiled functions and the
 * built pages (dist/web/) go to Azure; sources, tests, screenshots and test output do not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore from 'ignore';

const rules = ignore().add(fs.readFileSync(path.join(__dirname, '../../../.funcignore'), 'utf8'));

describe('.funcignore', () => {
  it.each([
    'dist/functions/health-get.js',
    'dist/shared/http/openapi.js',
    'dist/web/dashboard/index.html',
    'dist/web/dashboard/app.js',
    'dist/web/docs/swagger-ui-bundle.js',
    'host.json',
    'package.json',
  ])('deploys %s', (file) => expect(rules.ignores(file)).toBe(false));

  it.each([
    'web/dashboard/main.ts',
    'web/build.mjs',
    'docs/screenshots/dashboard-1280.png',
    'test-artifacts/screenshots/dashboard-phone.png',
    'tests/e2e/client.ts',
    'shared/http/openapi.ts',
    'local.settings.json',
  ])('leaves out %s', (file) => expect(rules.ignores(file)).toBe(true));
});
