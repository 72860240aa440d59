import { unknownRole } from '../../../shared/domain/analysis/role-catalog';
import { Gazetteer, type GazetteerCity } from '../../../shared/domain/analysis/geo';
import {
  ChatModelError,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
} from '../../../shared/ports/chat-model';
import { ProfileLocationIndex } from '../../../shared/services/analysis-market-service';
import { AnalysisService } from '../../../shared/services/analysis-service';
import { ProviderLockService } from '../../../shared/services/provider-lock-service';
import { keyPrincipal } from '../../../shared/services/principal';
import { ManualClock, makeTestServices } from '../../helpers/test-services';
import { inProcessCompute } from '../../helpers/in-process-compute';
import type { Services } from '../../../shared/container';

const city = (
  id: string,
  name: string,
  country: string,
  lat: number,
  lon: number,
  population: number,
): GazetteerCity => ({
  id,
  name,
  country,
  lat,
  lon,
  population,
  featureCode: 'PPL',
});

class ScriptedModel implements ChatModel {
  readonly structuredOutput = 'json_schema' as const;
  calls = 0;
  constructor(
    readonly provider: string,
    readonly model: string,
    private readonly outcomes: (unknown | ChatModelError)[],
  ) {}
  async complete(_request: ChatRequest): Promise<ChatResponse> {
    const outcome = this.outcomes[Math.min(this.calls++, this.outcomes.length - 1)];
    if (outcome instanceof ChatModelError) throw outcome;
    return { json: outcome, model: this.model };
  }
}

const answer = {
  score: 70,
  strengths: ['ok'],
  gaps: [],
  recommendations: ['go'],
  matchedSkills: ['Go'],
  missingSkills: [],
  confidence: 0.5,
};
const request = { skills: ['Go'], experienceYears: 2, education: 'BSc', targetRole: 'Backend Developer' };

describe('AnalysisService', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  const clock = new ManualClock();
  beforeEach(() => {
    ({ services, cleanup } = makeTestServices({ BRIDGE_EVENTS_FAST_PATH: 'false' }, clock));
  });
  afterEach(() => cleanup());

  function analysis(models: ChatModel[], gazetteer: () => Gazetteer = () => new Gazetteer([])) {
    const lock = new ProviderLockService(services.store.collection('state'), clock, {
      order: ['a', 'b'],
      configured: models.map((m) => m.provider),
      failureThreshold: 3,
      rateLimitThreshold: 3,
      cooldownMs: 1000,
    });
    return new AnalysisService({
      lock,
      models: new Map(models.map((m) => [m.provider, m])),
      roles: async (role) => unknownRole(role),
      priors: { default: { alpha: 1, beta: 1 } },
      publisher: services.publisher,
      compute: inProcessCompute({ gazetteer }),
      locations: new ProfileLocationIndex(services.store.collection('state'), clock),
    });
  }

  it('follows a failover to the new holder within the same request, one attempt each', async () => {
    const a = new ScriptedModel('a', 'model-a', [new ChatModelError('a', 'auth', 'HTTP 401')]);
    const b = new ScriptedModel('b', 'model-b', [answer]);
    const { metadata } = await analysis([a, b]).analyse(request);
    expect(metadata).toEqual({
      provider: 'b',
      model: 'model-b',
      confidence: 0.5,
      degraded: false,
      failure: { provider: 'a', kind: 'auth', message: 'HTTP 401' },
    });
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it('a failover to the heuristic is answered by the heuristic, naming the last failure', async () => {
    const a = new ScriptedModel('a', 'model-a', [new ChatModelError('a', 'auth', 'HTTP 401')]);
    const { metadata } = await analysis([a]).analyse(request);
    expect(metadata).toMatchObject({
      provider: 'heuristic',
      degraded: true,
      failure: { provider: 'a', kind: 'auth' },
    });
  });

  it('an error that is not a provider failure is not swallowed', async () => {
    const broken: ChatModel = {
      provider: 'a',
      model: 'm',
      structuredOutput: 'json_object',
      complete: () => Promise.reject(new TypeError('bug')),
    };
    await expect(analysis([broken]).analyse(request)).rejects.toThrow('bug');
  });

  it('an event id makes the analysis_complete event idempotent (a redelivered queued command)', async () => {
    const service = analysis([]);
    const principal = keyPrincipal('svc', 'service', 'svc');
    const first = await service.comprehensive({ ...request, userId: 'ann' }, principal, { eventId: 'op_1' });
    const again = await service.comprehensive({ ...request, userId: 'ann' }, principal, { eventId: 'op_1' });
    expect(again.event).toEqual(first.event);
    const { events } = await services.events.replay({ types: ['analysis_complete'], limit: 10 });
    expect(events).toHaveLength(1);
  });

  it('rates ambiguous names by population', async () => {
    const gazetteer = new Gazetteer([
      city('1', 'Springfield', 'US', 39.8, -89.64, 114_000),
      city('2', 'Springfield', 'US', 37.21, -93.29, 169_000),
      city('3', 'Springfield', 'US', 42.1, -72.59, 155_000),
      city('4', 'Chatham', 'US', 39.68, -89.7, 13_000),
    ]);
    const service = analysis([], () => gazetteer);
    const named = await service.geographic({ location: 'Springfield', radiusKm: 20 });
    const coords = await service.geographic({ location: { lat: 39.8, lon: -89.64 }, radiusKm: 20 });
    expect(named.result.location.city.id).toBe('2');
    expect(named.metadata.confidence).toBeCloseTo(169 / 438, 3);
    expect(coords.metadata.confidence).toBe(1);
    expect(coords.result.nearby.map((c) => c.name)).toEqual(['Chatham']);
  });
});
