/** The OpenAI-compatible adapter's embeddings call against a loopback server: one request, validated. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenAICompatibleChatModel } from '../../../shared/adapters/ai/openai-compatible-chat-model';

let server: http.Server;
let baseUrl: string;
let answer: (input: string[]) => unknown = () => ({});
const seen: { model?: string; input?: string[] }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { model: string; input: string[] };
      seen.push(parsed);
      res.writeHead(req.url === '/v1/embeddings' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(parsed.input)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const model = () =>
  new OpenAICompatibleChatModel({
    provider: 'openai',
    baseUrl,
    model: 'chat-model',
    embeddingModel: 'embed-model',
    apiKey: 'sk-test-000000000000',
    timeoutMs: 5000,
    structuredOutput: 'json_schema',
  });

it('sends the texts to the embeddings model and returns one vector per text, in order', async () => {
  answer = (input) => ({
    object: 'list',
    model: 'embed-model-001',
    data: input.map((t, index) => ({ object: 'embedding', index, embedding: [t.length, 0.5] })).reverse(),
  });
  const result = await model().embed(['a', 'abc']);
  expect(result).toEqual({
    vectors: [
      [1, 0.5],
      [3, 0.5],
    ],
    model: 'embed-model-001',
  });
  expect(seen.at(-1)).toMatchObject({ model: 'embed-model', input: ['a', 'abc'] });
});

it.each([
  ['too few vectors', () => ({ object: 'list', model: 'm', data: [{ index: 0, embedding: [1] }] })],
  [
    'vectors of different lengths',
    () => ({
      object: 'list',
      model: 'm',
      data: [
        { index: 0, embedding: [1] },
        { index: 1, embedding: [1, 2] },
      ],
    }),
  ],
  [
    'a vector that is not numbers',
    () => ({
      object: 'list',
      model: 'm',
      data: [
        { index: 0, embedding: ['x'] },
        { index: 1, embedding: ['y'] },
      ],
    }),
  ],
  ['no list at all', () => ({ error: 'nope' })],
])('%s is invalid output', async (_name, make) => {
  answer = make;
  await expect(model().embed(['a', 'b'])).rejects.toMatchObject({
    name: 'ChatModelError',
    kind: 'invalid-output',
  });
});
