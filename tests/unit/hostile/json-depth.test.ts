import { statePut } from '../../../functions/state-put';
import { usersSync } from '../../../functions/users-sync';
import { setServices, type Services } from '../../../shared/container';
import { parseRolePriors } from '../../../shared/domain/analysis/bayesian';
import { parseTaxonomyImport } from '../../../shared/domain/job-titles/taxonomy';
import { MAX_JSON_DEPTH, jsonTextTooDeep, jsonValueTooDeep } from '../../../shared/domain/json-safety';
import { PoisonCommandError } from '../../../shared/services/command-service';
import { invokeHandler } from '../../helpers/invoke-handler';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
const nestedObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('JSON depth limit (issue 9 item 3)', () => {
  it('counts nesting on the raw text, ignoring brackets inside strings and escapes', () => {
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTextTooDeep(nestedObject(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTextTooDeep(JSON.stringify({ s: '[[[[[[[[[[' + '{'.repeat(500) }))).toBe(false);
    expect(jsonTextTooDeep(JSON.stringify({ s: 'a\\"[[[[' }) + '')).toBe(false);
    expect(jsonTextTooDeep(`["\\\\", ${nested(MAX_JSON_DEPTH)}]`)).toBe(true);
    expect(jsonTextTooDeep(`["\\\\", ${nested(MAX_JSON_DEPTH - 1)}]`)).toBe(false);
    // wide is fine: depth, not size
    expect(jsonTextTooDeep(JSON.stringify(Array.from({ length: 10_000 }, () => [[1]])))).toBe(false);
  });

  it('bounds parsed values without recursion', () => {
    expect(jsonValueTooDeep(JSON.parse(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonValueTooDeep(JSON.parse(nested(100_000)))).toBe(true);
  });

  describe('routes', () => {
    let services: Services;
    let cleanup: () => Promise<void>;
    beforeEach(() => {
      ({ services, cleanup } = makeTestServices());
      setServices(services);
    });
    afterEach(async () => {
      setServices(undefined);
      await cleanup();
    });

    it('answers 400 json-too-deep for a body nested 10,000 levels, and changes nothing', async () => {
      for (const body of [`{"data":{"x":${nested(10_000)}}}`, `{"data":{"x":${nestedObject(10_000)}}}`]) {
        const res = await invokeHandler(usersSync, {
          method: 'POST',
          key: TEST_ADMIN_KEY,
          params: { userId: 'ann' },
          body,
        });
        expect(res.status).toBe(400);
        expect(JSON.parse(res.raw)).toMatchObject({
          type: 'urn:portal-bridge:problem:json-too-deep',
          maxDepth: MAX_JSON_DEPTH,
        });
      }
      expect(await services.sync.get('ann')).toBeUndefined();
    });

    it('accepts exactly the limit and refuses one more level', async () => {
      const put = (depth: number) =>
        invokeHandler(statePut, {
          method: 'PUT',
          key: TEST_ADMIN_KEY,
          params: { key: 'deep' },
          body: `{"value":${nested(depth - 1)}}`,
        });
      expect((await put(MAX_JSON_DEPTH)).status).toBe(200);
      expect((await put(MAX_JSON_DEPTH + 1)).status).toBe(400);
    });

    it('refuses a deep command put on the queue directly as poison, before validation', async () => {
      const body = JSON.parse(
        `{"operationId":"op_000000000000000000000000","command":${nestedObject(5000)}}`,
      );
      await expect(services.commands.process(body, 1)).rejects.toBeInstanceOf(PoisonCommandError);
    });
  });

  it('a deep taxonomy import is a document error, and deep priors a settings error', () => {
    const report = parseTaxonomyImport(`{"families":${nested(10_000)}}`, 'json');
    expect(report.rows[0]).toMatchObject({ section: 'document', ok: false });
    expect(report.rows[0]?.errors[0]).toMatch(/deeper than 64/);
    expect(() => parseRolePriors(`{"x":${nestedObject(10_000)}}`)).toThrow(/deeper than 64/);
  });
});
