import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileTemplate, RouteTable } from '../../../local/route-table';
import type { Registration } from '../../../local/function-registry';

const reg = (name: string, route: string, methods: string[]): Registration => ({
  trigger: 'http',
  name,
  options: { route, methods, handler: async () => ({ status: 200 }) },
});

describe('RouteTable', () => {
  const table = new RouteTable([
    reg('users-get', 'users/{userId}', ['GET']),
    reg('users-sync', 'users/{userId}/sync', ['POST']),
    reg('files-get', 'files/{*path}', ['GET']),
    reg('keys-list', 'keys', ['GET']),
    reg('keys-mine', 'keys/mine', ['GET']),
    reg('keys-get', 'keys/{id}', ['GET']),
  ]);

  it('matches parameters and decodes them', () => {
    expect(table.match('GET', '/users/ann%40x.org')).toMatchObject({
      kind: 'match',
      params: { userId: 'ann@x.org' },
    });
    expect(table.match('POST', '/users/u1/sync')).toMatchObject({
      kind: 'match',
      route: { name: 'users-sync' },
    });
  });

  it('prefers literal segments over parameters', () => {
    expect(table.match('GET', '/keys/mine')).toMatchObject({ kind: 'match', route: { name: 'keys-mine' } });
    expect(table.match('GET', '/keys/abc')).toMatchObject({
      kind: 'match',
      route: { name: 'keys-get' },
      params: { id: 'abc' },
    });
  });

  it('supports catch-all parameters', () => {
    expect(table.match('GET', '/files/a/b/c.txt')).toMatchObject({
      kind: 'match',
      params: { path: 'a/b/c.txt' },
    });
  });

  it('distinguishes 405 from 404', () => {
    expect(table.match('DELETE', '/users/u1/sync')).toEqual({
      kind: 'method-not-allowed',
      allowed: ['POST'],
    });
    expect(table.match('GET', '/nothing/here')).toEqual({ kind: 'not-found' });
  });

  it('compiles optional and constrained parameters', () => {
    expect(compileTemplate('items/{id:int}/{tag?}').regex.test('/items/5')).toBe(true);
    expect(compileTemplate('items/{id:int}/{tag?}').params).toEqual(['id', 'tag']);
  });
});

describe('function files', () => {
  const dir = path.join(__dirname, '../../../functions');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it.each(files)(
    '%s is named <resource>-<verb> and registers exactly one function under that name',
    (file) => {
      expect(file).toMatch(
        /^[a-z]+(-[a-z]+)*-(get|list|create|delete|put|sync|process|deliver|retry|publish|changefeed|sweep|probe|status|grant|import|redeliver|post|run|analyze|acquire|release|update|search)\.ts$/,
      );
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      // HTTP: `export const x = route('<name>', {…})`; other triggers: `app.<trigger>('<name>', …)`.
      const registrations = [...source.matchAll(/(?:\bapp\.(\w+)|= route)\('([^']+)'/g)];
      expect(registrations).toHaveLength(1);
      expect(registrations[0]?.[2]).toBe(file.replace(/\.ts$/, ''));
      // Registration sits at the bottom of the file, after the handler.
      const last = registrations[0]?.[1]
        ? source.lastIndexOf('\napp.')
        : source.lastIndexOf('\nexport const ');
      if (registrations[0]?.[1]) {
        expect(last).toBeGreaterThan(source.lastIndexOf('\nexport '));
      } else {
        expect(source.slice(last)).toMatch(/^\nexport const \w+ = route\('/);
        expect(source.indexOf('\napp.')).toBe(-1);
      }
      expect(source.slice(last).trimEnd().endsWith(');')).toBe(true);
    },
  );
});
