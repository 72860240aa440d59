import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHostJson } from '../../../local/host';

/** A project root whose host.json has these serviceBus settings. */
function rootWith(serviceBus: Record<string, unknown>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-hostjson-'));
  fs.writeFileSync(
    path.join(root, 'host.json'),
    JSON.stringify({ version: '2.0', extensions: { serviceBus } }),
  );
  return root;
}

test("the project's host.json: 128 calls at once, batches of up to 100", () => {
  expect(readHostJson(path.resolve(__dirname, '../../..'))).toEqual({
    routePrefix: 'api',
    maxConcurrentCalls: 128,
    maxMessageBatchSize: 100,
  });
});

test('unset counts take the defaults (16 calls, the extension default of 1000 messages per batch)', () => {
  expect(readHostJson(rootWith({}))).toMatchObject({ maxConcurrentCalls: 16, maxMessageBatchSize: 1000 });
});

test.each([0, -1, 2.5, '10', null])('a count of %p stops the host with the setting named', (bad) => {
  expect(() => readHostJson(rootWith({ maxMessageBatchSize: bad }))).toThrow(
    /extensions\.serviceBus\.maxMessageBatchSize must be a positive integer/,
  );
  expect(() => readHostJson(rootWith({ maxConcurrentCalls: bad }))).toThrow(
    /extensions\.serviceBus\.maxConcurrentCalls must be a positive integer/,
  );
});
