import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileTemplate, RouteTable, RouteTemplateError } from '../../../local/route-table';
import type { Registration } from '../../../local/function-registry';
import { sourceRegistrations } from '../../helpers/source-registrations';

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

describe('route constraints (as the Functions host applies them: a failing value does not match)', () => {
  /** Whether `value` (one path segment, or more for a catch-all) matches `{p:<constraint>}`. */
  const matches = (constraint: string, value: string, template = `t/{p:${constraint}}`) =>
    new RouteTable([reg('t', template, ['GET'])]).match('GET', `/t/${value}`).kind === 'match';

  it.each([
    [
      'int',
      ['0', '42', '-7', '+7', '2147483647', '-2147483648'],
      ['abc', '1.5', '1e3', '2147483648', ' 1', ''],
    ],
    ['long', ['9223372036854775807', '-9223372036854775808'], ['9223372036854775808', 'x']],
    ['bool', ['true', 'FALSE', 'True'], ['yes', '1', 'truee']],
    [
      'guid',
      [
        'CD2C1638-1638-72D5-1638-DEADBEEF1638',
        'cd2c1638163872d51638deadbeef1638',
        '{cd2c1638-1638-72d5-1638-deadbeef1638}',
        '(cd2c1638-1638-72d5-1638-deadbeef1638)',
      ],
      ['cd2c1638-1638-72d5-1638-deadbeef163', 'not-a-guid', 'cd2c1638-1638-72d5-1638-deadbeef1638x'],
    ],
    ['alpha', ['abc', 'ABCdef'], ['abc1', 'é', 'a-b']],
    ['length(3)', ['abc', '123'], ['ab', 'abcd']],
    ['length(2,4)', ['ab', 'abcd'], ['a', 'abcde']],
    ['minlength(2)', ['ab', 'abcdef'], ['a']],
    ['maxlength(2)', ['a', 'ab'], ['abc']],
    ['min(10)', ['10', '11', '99999999999'], ['9', '-10', 'ten']],
    ['max(10)', ['10', '-5'], ['11', 'x']],
    ['range(1,5)', ['1', '5'], ['0', '6', 'one']],
    ['regex(^[a-z]{{2}}-\\d+$)', ['ab-12', 'AB-1'], ['abc-1', 'ab-', 'x']],
    ['int:min(1)', ['1', '7'], ['0', 'abc']],
  ])('%s', (constraint, good, bad) => {
    for (const value of good)
      expect([constraint, value, matches(constraint, value)]).toEqual([constraint, value, true]);
    for (const value of bad)
      expect([constraint, value, matches(constraint, value)]).toEqual([constraint, value, false]);
  });

  it('{id:int} does not match /items/abc: the next route may, else 404', () => {
    const table = new RouteTable([
      reg('items-get', 'items/{id:int}', ['GET']),
      reg('items-named', 'items/{name:alpha}', ['DELETE']),
    ]);
    expect(table.match('GET', '/items/12')).toMatchObject({ kind: 'match', params: { id: '12' } });
    expect(table.match('GET', '/items/abc')).toEqual({ kind: 'method-not-allowed', allowed: ['DELETE'] });
    expect(table.match('GET', '/items/a1')).toEqual({ kind: 'not-found' });
  });

  it('checks the decoded value, and an absent optional parameter is not checked', () => {
    const table = new RouteTable([reg('v', 'v/{n:int?}', ['GET'])]);
    expect(table.match('GET', '/v/%31%32')).toMatchObject({ kind: 'match', params: { n: '12' } });
    expect(table.match('GET', '/v')).toMatchObject({ kind: 'match', params: {} });
    expect(table.match('GET', '/v/x')).toEqual({ kind: 'not-found' });
  });

  it('a regex may hold ":", "/" and parentheses, and constrains catch-alls too', () => {
    // As in ASP.NET Core, the arguments end at a ")" followed by ":" or the end of the parameter.
    const template = 't/{*p:regex(^a:(b|c)/d$)}';
    expect(matches('', 'a:b/d', template)).toBe(true);
    expect(matches('', 'a:x/d', template)).toBe(false);
  });

  it.each([
    ['t/{p:datetime}', /not supported/],
    ['t/{p:nope}', /not supported/],
    ['t/{p:length(a)}', /whole number/],
    ['t/{p:length(3,2)}', /min is greater than max/],
    ['t/{p:range(1)}', /takes 2 argument/],
    ['t/{p:int(3)}', /takes 0 argument/],
    ['t/{p:regex([)}', /regex/],
    ['t/{p=5}', /default values/],
    ['t/a{p}', /mixes text and a parameter/],
    ['t/{p}{q}', /one whole parameter/],
    ['t/{p}/{p}', /appears twice/],
  ])('refuses %s when the host starts', (template, message) => {
    expect(() => new RouteTable([reg('bad', template, ['GET'])])).toThrow(RouteTemplateError);
    expect(() => new RouteTable([reg('bad', template, ['GET'])])).toThrow(message);
  });

  it('every route the function files register compiles', () => {
    const registrations = sourceRegistrations();
    const table = new RouteTable(registrations);
    expect(table.all.length).toBe(registrations.filter((r) => r.trigger === 'http').length);
    expect(table.all.length).toBeGreaterThan(30);
  });
});

describe('function files', () => {
  const dir = path.join(__dirname, '../../../functions');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it.each(files)(
    '%s is named <resource>-<verb> and registers exactly one function under that name',
    (file) => {
      expect(file).toMatch(
        /^[a-z]+(-[a-z]+)*-(get|list|create|delete|put|sync|process|deliver|retry|publish|changefeed|sweep|probe|status|grant|import|redeliver|post|run|analyze|acquire|release|negotiate|generate|enrich|cancel|monitor|check|update|search|recover|enable)\.ts$/,
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
