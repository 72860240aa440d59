import * as net from 'node:net';
import { OpenAICompatibleChatModel, redact } from '../../../shared/adapters/ai/openai-compatible-chat-model';
import { STRUCTURED_OUTPUT, buildChatModels } from '../../../shared/adapters/ai/providers';
import { loadConfig } from '../../../shared/config';
import { ChatModelError, type ChatRequest } from '../../../shared/ports/chat-model';
import { providerAnswerJsonSchema } from '../../../shared/services/analysis-schemas';
import { FakeOpenAIServer, type FakeMode } from '../../helpers/fake-openai-server';

const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'answer in JSON' },
    {
      role: 'user',
      content: JSON.stringify({
        candidate: {
          targetRole: 'Data Engineer',
          skills: ['Python', 'SQL'],
          experienceYears: 3,
          education: 'BSc',
        },
        roleContext: { typicalSkills: ['python', 'sql', 'spark'] },
      }),
    },
  ],
  responseSchema: { name: 'comprehensive_analysis', schema: providerAnswerJsonSchema() },
};

describe('OpenAICompatibleChatModel against an OpenAI-compatible server on loopback', () => {
  let server: FakeOpenAIServer;
  beforeAll(async () => {
    server = await FakeOpenAIServer.start();
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  const model = (
    provider = 'openai',
    options: Partial<ConstructorParameters<typeof OpenAICompatibleChatModel>[0]> = {},
  ) =>
    new OpenAICompatibleChatModel({
      provider,
      baseUrl: server.baseUrl(provider),
      model: 'test-model',
      apiKey: 'sk-test',
      timeoutMs: 300,
      structuredOutput: 'json_schema',
      ...options,
    });

  async function failureOf(mode: FakeMode): Promise<ChatModelError> {
    server.setMode('openai', mode);
    const error = await model()
      .complete(request)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ChatModelError);
    return error as ChatModelError;
  }

  it('sends one chat completion with a json_schema response_format and parses the answer', async () => {
    const answer = await model().complete(request);
    expect(answer.model).toBe('test-model');
    expect(answer.json).toMatchObject({ matchedSkills: ['Python', 'SQL'], missingSkills: ['spark'] });
    const [sent] = server.requestsTo('openai');
    expect(sent?.authorization).toBe('Bearer sk-test');
    expect(sent?.body).toMatchObject({
      model: 'test-model',
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'comprehensive_analysis', strict: true } },
    });
    const schema = sent?.body.response_format?.json_schema?.schema as Record<string, unknown>;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'score',
        'strengths',
        'gaps',
        'recommendations',
        'matchedSkills',
        'missingSkills',
        'confidence',
      ]),
    );
    expect(schema).not.toHaveProperty('$schema');
  });

  it('asks for json_object from providers without json_schema support', async () => {
    await model('groq', { structuredOutput: STRUCTURED_OUTPUT.groq }).complete(request);
    expect(server.requestsTo('groq')[0]?.body.response_format).toEqual({ type: 'json_object' });
  });

  it('a provider that refuses json_schema fails this attempt and gets json_object from then on', async () => {
    const m = model();
    server.script('openai', ['no-json-schema']);
    await expect(m.complete(request)).rejects.toMatchObject({ kind: 'server', status: 400 });
    expect(m.structuredOutput).toBe('json_object');
    await m.complete(request);
    expect(server.requestsTo('openai').map((r) => r.body.response_format?.type)).toEqual([
      'json_schema',
      'json_object',
    ]);
  });

  it.each<[FakeMode, string, number | undefined]>([
    ['auth', 'auth', 401],
    ['forbidden', 'auth', 403],
    ['rate-limit', 'rate-limit', 429],
    ['payment', 'rate-limit', 402],
    ['server', 'server', 500],
    ['unavailable', 'server', 503],
    ['timeout', 'timeout', undefined],
    ['malformed', 'invalid-output', undefined],
  ])('%s → failure kind %s, after exactly one request (no SDK retries)', async (mode, kind, status) => {
    const error = await failureOf(mode);
    expect(error.kind).toBe(kind);
    expect(error.provider).toBe('openai');
    expect(error.status).toBe(status);
    expect(server.requestsTo('openai')).toHaveLength(1);
  });

  it('keeps keys out of failure messages', async () => {
    const error = await failureOf('auth');
    expect(error.message).toBe('HTTP 401: 401 Incorrect API key provided.');
    expect(redact('Incorrect API key provided: sk-proj-****abcd. Bearer abc.def', undefined)).toBe(
      'Incorrect API key provided: [redacted] Bearer [redacted]',
    );
    expect(redact('key my-own-secret-key rejected', 'my-own-secret-key')).toBe('key [redacted] rejected');
  });

  it('no answer at all (connection refused) is a network failure', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const m = model('openai', { baseUrl: `http://127.0.0.1:${port}/v1` });
    await expect(m.complete(request)).rejects.toMatchObject({ kind: 'network' });
  });

  /** A model whose HTTP layer answers `choice` as the only choice of a 200 completion. */
  const answering = (choice: Record<string, unknown>) =>
    new OpenAICompatibleChatModel({
      provider: 'openai',
      baseUrl: 'http://127.0.0.1:1/v1',
      model: 'm',
      apiKey: 'k',
      timeoutMs: 1000,
      structuredOutput: 'json_object',
      fetch: async () =>
        new Response(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, ...choice }],
          }),
          { status: 200, headers: { 'content-type': 'application/json' } },
        ),
    });

  it('removes a Markdown code fence around JSON', async () => {
    const m = answering({
      message: { role: 'assistant', content: '```json\n{"a":1}\n```' },
      finish_reason: 'stop',
    });
    await expect(m.complete(request)).resolves.toEqual({ json: { a: 1 }, model: 'm' });
  });

  it.each([
    ['a cut-off answer', { message: { role: 'assistant', content: '{"a":' }, finish_reason: 'length' }],
    [
      'a refusal',
      { message: { role: 'assistant', content: null, refusal: 'I cannot help' }, finish_reason: 'stop' },
    ],
    ['an empty answer', { message: { role: 'assistant', content: '  ' }, finish_reason: 'stop' }],
  ])('%s is invalid output', async (_name, choice) => {
    await expect(answering(choice).complete(request)).rejects.toMatchObject({ kind: 'invalid-output' });
  });

  it('a key from the secret store is read before the request and sent as the bearer token', async () => {
    const reads: string[] = [];
    server.expectKey('gemini', 'sk-from-vault');
    const ai = loadConfig({
      BRIDGE_ADMIN_KEY: 'x'.repeat(32),
      AI_PROVIDER_ORDER: 'gemini',
      AI_GEMINI_BASE_URL: server.baseUrl('gemini'),
      AI_GEMINI_API_KEY_SECRET: 'gemini-api-key',
      AI_GEMINI_MODEL: 'gemini-test',
    }).ai;
    const models = buildChatModels(ai, {
      readSecret: async (name) => {
        reads.push(name);
        return 'sk-from-vault';
      },
    });
    const gemini = models.get('gemini');
    await gemini?.complete(request);
    await gemini?.complete(request);
    expect(reads).toEqual(['gemini-api-key']); // cached
    expect(server.requestsTo('gemini').map((r) => r.authorization)).toEqual([
      'Bearer sk-from-vault',
      'Bearer sk-from-vault',
    ]);
  });

  it('a secret that cannot be read fails the attempt as an authentication failure', async () => {
    const m = model('openai', {
      apiKey: async () => {
        throw new Error('vault unreachable');
      },
    });
    await expect(m.complete(request)).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/vault unreachable/),
    });
    expect(server.requestsTo('openai')).toHaveLength(0);
  });

  it('buildChatModels builds only configured providers that are in the order, and needs a secret store for secret names', () => {
    const base = { BRIDGE_ADMIN_KEY: 'x'.repeat(32) };
    const ai = loadConfig({
      ...base,
      AI_PROVIDER_ORDER: 'groq,openai',
      AI_OPENAI_API_KEY: 'sk',
      AI_OPENAI_MODEL: 'gpt-test',
      AI_GEMINI_API_KEY: 'g',
      AI_GEMINI_MODEL: 'gemini-test',
    }).ai;
    expect([...buildChatModels(ai).keys()]).toEqual(['openai']);
    const withSecret = loadConfig({
      ...base,
      AI_OPENAI_API_KEY_SECRET: 'openai-key',
      AI_OPENAI_MODEL: 'gpt',
    }).ai;
    expect(() => buildChatModels(withSecret)).toThrow(/AI_OPENAI_API_KEY_SECRET/);
  });
});
