/**
 * Career services with real adapters (embedded store, files, the worker pool) and scripted AI
 * providers: text analytics, coaching and embeddings through the provider lock, a provider's
 * invalid answer falling back to the local method (degraded), and every owner decision going
 * through access-policy.ts (an end user, once principals carry one, reaches only their own records).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as accessPolicy from '../../../shared/services/access-policy';
import { loadConfig } from '../../../shared/config';
import { createServices, type Services } from '../../../shared/container';
import {
  ChatModelError,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type EmbeddingResponse,
} from '../../../shared/ports/chat-model';
import { requestedUser } from '../../../shared/services/career-records';
import { endUserPrincipal, keyPrincipal } from '../../../shared/services/principal';
import { ServiceError } from '../../../shared/services/errors';
import { TEST_ADMIN_KEY } from '../../helpers/test-services';

class ScriptedModel implements ChatModel {
  readonly structuredOutput = 'json_schema' as const;
  readonly requests: ChatRequest[] = [];
  constructor(
    readonly provider: string,
    readonly model: string,
    private readonly answer: (request: ChatRequest) => unknown,
    readonly embeddingModel?: string,
  ) {}
  async complete(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const json = this.answer(request);
    if (json instanceof ChatModelError) throw json;
    return { json, model: this.model };
  }
  async embed(input: readonly string[]): Promise<EmbeddingResponse> {
    return { vectors: input.map((t) => [t.length, 1, 0]), model: this.embeddingModel ?? 'none' };
  }
}

const admin = keyPrincipal('admin-key', 'admin', 'admin');
const portal = keyPrincipal('portal-key', 'user', 'user portal');

function build(models: ChatModel[]): { services: Services; cleanup: () => Promise<void> } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-career-'));
  const config = loadConfig({
    BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_EVENTS_FAST_PATH: 'false',
  });
  const services = createServices(config, { chatModels: new Map(models.map((m) => [m.provider, m])) });
  return {
    services,
    cleanup: async () => {
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('through an AI provider', () => {
  const openai = new ScriptedModel(
    'openai',
    'gpt-test',
    (request) => {
      const schema = request.responseSchema.name;
      if (schema === 'sentiment') return { label: 'negative', score: -0.6, confidence: 0.9 };
      if (schema === 'key_phrases') return { keyPhrases: ['invented phrase'], confidence: 0.8 };
      if (schema === 'language') return { language: 'de', confidence: 0.99 };
      if (schema === 'generated_text') return { text: 'A short, factual paragraph.' };
      if (schema === 'coaching_answer')
        return {
          answer: 'Learn ETL and lead a migration.',
          actionItems: ['Take an ETL course'],
          confidence: 0.7,
        };
      return {};
    },
    'embed-test',
  );
  let services: Services;
  let cleanup: () => Promise<void>;
  beforeAll(() => ({ services, cleanup } = build([openai])));
  afterAll(() => cleanup());

  it('sentiment, language and generation come from the provider, validated', async () => {
    expect(await services.textAnalytics.sentiment('It was fine I guess.')).toEqual({
      result: { label: 'negative', score: -0.6 },
      metadata: { provider: 'openai', model: 'gpt-test', confidence: 0.9, degraded: false },
    });
    expect((await services.textAnalytics.language('Guten Tag')).result).toEqual({ language: 'de' });
    expect((await services.textAnalytics.generate('Write', { maxTokens: 100 })).result).toEqual({
      text: 'A short, factual paragraph.',
    });
    const embeddings = await services.textAnalytics.embeddings(['ab', 'abcd']);
    expect(embeddings).toMatchObject({
      result: {
        embeddings: [
          [2, 1, 0],
          [4, 1, 0],
        ],
        dimensions: 3,
      },
      metadata: { provider: 'openai', model: 'embed-test' },
    });
  });

  it('an invented key phrase is invalid output: the local method answers, degraded, naming the failure', async () => {
    const answer = await services.textAnalytics.keyPhrases(
      'Senior data engineer building streaming pipelines.',
      3,
    );
    expect(answer.metadata).toMatchObject({
      provider: 'local',
      model: 'rake',
      degraded: true,
      failure: { provider: 'openai', kind: 'invalid-output' },
    });
    expect(answer.result.keyPhrases.length).toBeGreaterThan(0);
  });

  it('coaching answers through the provider with the candidate facts in the prompt', async () => {
    await services.sync.sync('eve', { data: { jobTitle: 'Data Engineer', skills: ['python'] } }, 'admin');
    const result = await services.career.coach(
      'eve',
      { question: 'What next?', topic: 'promotion' },
      undefined,
    );
    expect(result.turn).toMatchObject({
      answer: 'Learn ETL and lead a migration.',
      actionItems: ['Take an ETL course'],
      metadata: { provider: 'openai', degraded: false },
    });
    const prompt = openai.requests.at(-1)?.messages[1]?.content ?? '';
    expect(prompt).toContain('"currentTitle":"Data Engineer"');
    const session = await services.career.saveTurn('eve', result);
    expect((await services.career.saveTurn('eve', result)).turns).toHaveLength(1); // stored once
    expect(session.turns).toHaveLength(1);
  });
});

describe('without an embeddings model, and owner checks', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  beforeAll(
    () =>
      ({ services, cleanup } = build([
        new ScriptedModel('openai', 'gpt-test', () => new ChatModelError('openai', 'server', 'HTTP 500')),
      ])),
  );
  afterAll(() => cleanup());
  afterEach(() => jest.restoreAllMocks());

  it('embeddings answer 503 when the lock holder has no embeddings model; a failing provider leaves sentiment to AFINN, degraded', async () => {
    await expect(services.textAnalytics.embeddings(['x'])).rejects.toMatchObject({
      kind: 'unavailable',
      message: expect.stringMatching(/has none/),
    });
    const sentiment = await services.textAnalytics.sentiment('A great and happy day.');
    expect(sentiment).toMatchObject({
      result: { label: 'positive' },
      metadata: { provider: 'local', degraded: true, failure: { provider: 'openai', kind: 'server' } },
    });
  });

  it("every owner decision goes through access-policy: another user's resume and application do not exist for the caller", async () => {
    const resume = await services.resumes.create(
      'ann',
      {
        fileName: 'cv.txt',
        contentType: 'text/plain',
        body: (async function* () {
          yield Buffer.from('Ann\nSkills\nPython, SQL\n');
        })(),
      },
      portal,
    );
    await services.jobPostings.import(
      [{ id: 'p1', title: 'Data Engineer', text: 'Python', remote: 'remote' }],
      admin,
    );
    const application = await services.applications.create('ann', { postingId: 'p1' }, portal);
    expect((await services.resumes.get(resume.id, portal)).userId).toBe('ann');

    // An end user other than ann: her records do not exist for him, naming her is 403.
    const bob = endUserPrincipal('bob');
    const decisions = jest.spyOn(accessPolicy, 'mayActForUser');
    await expect(services.resumes.get(resume.id, bob)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(services.resumes.delete(resume.id, bob)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(services.applications.get(application.id, bob)).rejects.toMatchObject({
      kind: 'not-found',
    });
    await expect(
      services.applications.changeStatus(application.id, { status: 'withdrawn' }, bob),
    ).rejects.toMatchObject({ kind: 'not-found' });
    expect(decisions).toHaveBeenCalledWith(bob, 'ann');
    expect(() => requestedUser(bob, 'ann', 'list the resumes')).toThrow(ServiceError);
    expect(() => requestedUser(bob, 'ann', 'list the resumes')).toThrow(
      'You may not list the resumes of user ann; only your own.',
    );
    expect(requestedUser(bob, undefined, 'list the resumes')).toBe('bob');
    expect(requestedUser(bob, 'bob', 'list the resumes')).toBe('bob');
    // and the owner's caller, and ann herself, still reach them
    expect((await services.applications.get(application.id, portal)).status).toBe('applied');
    expect((await services.resumes.get(resume.id, endUserPrincipal('ann'))).userId).toBe('ann');
    expect(() => requestedUser(portal, undefined, 'list the resumes')).toThrow(/userId is required/);
  });
});
