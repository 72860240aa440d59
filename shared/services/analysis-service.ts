/**
 * The analysis operations (issue 5; seed: portal_comprehensive_analysis, portal_geographic_analysis,
 * portal_bayesian_inference).
 *
 * Comprehensive analysis goes to the AI provider that holds the lock (ProviderLockService), one
 * attempt, no retries. Its answer is validated (analysis-prompt.ts) and counted as a success or a
 * failure. A failure that makes the lock fail over to another AI provider is followed by one attempt
 * at the new holder; any other failure is answered by the heuristic provider, marked degraded, with
 * the failure in its metadata. Every answer comes from exactly one provider.
 *
 * Geographic and Bayesian analyses are exact local computations (provider "local", never degraded).
 */
import {
  HEURISTIC_MODEL,
  REQUIRED_YEARS_BY_SENIORITY,
  mentions,
  recogniseEducation,
} from '../domain/analysis/heuristic';
import type { RoleLookup } from '../domain/analysis/role-catalog';
import { CREDIBLE_MASS, type BetaParams } from '../domain/analysis/bayesian';
import { HEURISTIC_PROVIDER } from '../domain/analysis/provider-lock';
import {
  type AnalysisMetadata,
  type BayesianRequest,
  type BayesianResult,
  type BayesianCandidateRequest,
  type ComprehensiveAnalysis,
  type GeographicRequest,
} from '../domain/analysis/schemas';
import { ChatModelError, type ChatModel } from '../ports/chat-model';
import type { ComputeWorker } from '../ports/compute-worker';
import type { Principal } from './principal';
import { marketTrends, type ProfileLocationIndex } from './analysis-market-service';
import { checkAnswer, comprehensivePrompt, InvalidAnswerError } from './analysis-prompt';
import type { ComprehensiveBody, ComprehensiveResponse, GeographicResponse } from './analysis-schemas';
import { ServiceError } from './errors';
import { callLockedProvider } from './locked-provider';
import type { ProviderLockService, ProvidersView } from './provider-lock-service';
import type { PublishService } from './publish-service';

/** Provider name in the metadata of the exact local computations. */
export const LOCAL_PROVIDER = 'local';
export const GEOGRAPHIC_MODEL = 'gazetteer-haversine';
export const BAYESIAN_MODEL = 'beta-binomial';
export const ANALYSIS_EVENT_TYPE = 'analysis_complete';

export interface AnalysisDeps {
  lock: ProviderLockService;
  /** Configured AI providers by name (built once by the container). */
  models: ReadonlyMap<string, ChatModel>;
  roles: RoleLookup;
  priors: Readonly<Record<string, BetaParams>>;
  publisher: PublishService;
  /**
   * The analyses' heavy pure parts (the heuristic over a long CV, the gazetteer and its lookups,
   * the Beta quantiles) run here, off the event loop; the gazetteer is loaded there, not here.
   */
  compute: Pick<ComputeWorker, 'heuristic' | 'geographic' | 'roleFit'>;
  locations: ProfileLocationIndex;
  /** Skills as the taxonomy names them ("K8s" → "kubernetes"); lower-cased as given without it. */
  normalizeSkills?: (skills: readonly string[]) => Promise<string[]>;
}

export interface ProviderInfo {
  model: string | null;
  structuredOutput: string | null;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class AnalysisService {
  constructor(private readonly deps: AnalysisDeps) {}

  // -------------------------------------------------------------------------------------------------
  // Comprehensive

  /**
   * Runs the analysis (AI provider or heuristic) and commits its analysis_complete event. `eventId`
   * makes the event idempotent (e.g. the operation id of a queued command, so a redelivery commits
   * no second event); without it every analysis is a new event.
   */
  async comprehensive(
    body: ComprehensiveBody,
    principal: Principal,
    options: { eventId?: string } = {},
  ): Promise<ComprehensiveResponse> {
    const { userId, ...request } = body;
    const { result, metadata } = await this.analyse(request);
    const data = {
      analysis: 'comprehensive',
      ...(userId !== undefined ? { userId } : {}),
      targetRole: request.targetRole,
      score: result.score,
      matchedSkills: result.matchedSkills.length,
      missingSkills: result.missingSkills.length,
      provider: metadata.provider,
      model: metadata.model,
      confidence: metadata.confidence,
      degraded: metadata.degraded,
      ...(metadata.failure
        ? { failure: { provider: metadata.failure.provider, kind: metadata.failure.kind } }
        : {}),
    };
    const event = await this.deps.publisher.emit(
      {
        type: ANALYSIS_EVENT_TYPE,
        data,
        ...(userId !== undefined ? { subject: userId } : {}),
        ...(options.eventId !== undefined ? { id: options.eventId } : {}),
      },
      principal,
    );
    return { result, metadata, event: { id: event.id, sequence: event.sequence } };
  }

  /** The analysis itself, without the event. */
  async analyse(
    request: Omit<ComprehensiveBody, 'userId'>,
  ): Promise<{ result: ComprehensiveAnalysis; metadata: AnalysisMetadata }> {
    const role = await this.deps.roles(request.targetRole);
    const outcome = await callLockedProvider(this.deps.lock, this.deps.models, async (model, provider) => {
      const answer = await model.complete(comprehensivePrompt(request, role));
      try {
        return { value: checkAnswer(answer.json, request), model: answer.model };
      } catch (error) {
        if (error instanceof InvalidAnswerError)
          throw new ChatModelError(provider, 'invalid-output', error.message);
        throw error;
      }
    });
    const failure = outcome.failure;
    if (outcome.kind === 'answer') {
      return {
        result: outcome.value.analysis,
        metadata: {
          provider: outcome.provider,
          model: outcome.model,
          confidence: round3(outcome.value.confidence),
          degraded: false,
          ...(failure ? { failure } : {}),
        },
      };
    }

    const h = await this.deps.compute.heuristic(request, role, this.deps.priors);
    return {
      result: h.analysis,
      metadata: {
        provider: HEURISTIC_PROVIDER,
        model: h.model,
        confidence: h.confidence,
        degraded: true,
        ...(failure ? { failure } : {}),
      },
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Geographic

  async geographic(request: GeographicRequest): Promise<GeographicResponse> {
    const outcome = await this.deps.compute.geographic({
      location: request.location,
      radiusKm: request.radiusKm,
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
      ...(request.country !== undefined ? { country: request.country } : {}),
    });
    if (outcome === null) {
      const what = typeof request.location === 'string' ? `"${request.location}"` : 'those coordinates';
      throw new ServiceError('validation', `No place matches ${what} in the gazetteer.`, [
        { path: '/location', message: 'unknown place' },
      ]);
    }
    const trends = marketTrends(await this.deps.locations.snapshot(), outcome.places);
    return {
      result: { ...outcome.analysis, marketTrends: trends },
      metadata: {
        provider: LOCAL_PROVIDER,
        model: GEOGRAPHIC_MODEL,
        confidence: round3(outcome.confidence),
        degraded: false,
      },
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Bayesian

  /**
   * Role fit; the role family defaults to the taxonomy family of the role, when it is known. With a
   * candidate profile instead of counts, the evidence is derived from the taxonomy: the role's
   * typical skills are the required ones (matched when the profile lists them — normalised — or the
   * CV text names them), the required years come from its seniority (REQUIRED_YEARS_BY_SENIORITY,
   * as in the heuristic analysis), and education gives no evidence (the taxonomy records no
   * education requirement; the qualification recognised is reported).
   */
  async bayesian(request: BayesianRequest): Promise<BayesianResult> {
    const role = await this.deps.roles(request.role);
    const family = request.roleFamily ?? role.family?.id;
    const derived = 'skills' in request ? await this.deriveEvidence(request, role) : undefined;
    const assessment = await this.deps.compute.roleFit(
      {
        role: request.role,
        ...(family !== undefined ? { roleFamily: family } : {}),
        profile: derived
          ? derived.profile
          : (request as Exclude<BayesianRequest, BayesianCandidateRequest>).profile,
      },
      this.deps.priors,
    );
    const [low, high] = assessment.credibleInterval;
    return {
      result: {
        ...assessment,
        credibleMass: CREDIBLE_MASS,
        ...(derived ? { derivedFrom: derived.derivedFrom } : {}),
      },
      metadata: {
        provider: LOCAL_PROVIDER,
        model: BAYESIAN_MODEL,
        // How concentrated the posterior is: 1 − the width of its 95 % credible interval.
        confidence: round3(Math.max(0, Math.min(1, 1 - (high - low)))),
        degraded: false,
      },
    };
  }

  private async deriveEvidence(candidate: BayesianCandidateRequest, role: Awaited<ReturnType<RoleLookup>>) {
    const normalize =
      this.deps.normalizeSkills ?? (async (s: readonly string[]) => s.map((x) => x.trim().toLowerCase()));
    const have = new Set(await normalize(candidate.skills));
    const required = [...new Set(role.typicalSkills)];
    const text = candidate.text ?? '';
    const matchedSkills = required.filter((s) => have.has(s) || (text !== '' && mentions(text, s)));
    const missingSkills = required.filter((s) => !matchedSkills.includes(s));
    const requiredExperienceYears = role.seniority ? REQUIRED_YEARS_BY_SENIORITY[role.seniority] : 0;
    const notes: string[] = [];
    if (!role.known) {
      notes.push(
        `The role "${role.input}" is not in the job-title taxonomy: no skill or experience evidence could be derived.`,
      );
    }
    const recognised = recogniseEducation(candidate.education).label;
    return {
      profile: {
        skillsMatched: matchedSkills.length,
        skillsRequired: required.length,
        experienceYears: candidate.experienceYears,
        requiredExperienceYears,
        educationMatch: 'unknown' as const,
      },
      derivedFrom: {
        titleId: role.titleId,
        title: role.title,
        seniority: role.seniority,
        requiredSkills: required,
        matchedSkills,
        missingSkills,
        requiredExperienceYears,
        requiredExperienceSource: role.seniority
          ? `the title's seniority (${role.seniority}): an editorial assumption of typical job-ad wording`
          : 'no seniority known: no experience evidence',
        education: {
          recognised,
          match: 'unknown' as const,
          reason: 'The taxonomy records no education requirement per title, so education gives no evidence.',
        },
        notes,
      },
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Providers

  /** GET /api/providers: the lock's view plus each provider's model and structured-output mode. */
  async providers(
    auditLimit?: number,
  ): Promise<ProvidersView & { providers: (ProvidersView['providers'][number] & ProviderInfo)[] }> {
    const view = await this.deps.lock.view(auditLimit);
    return {
      ...view,
      providers: view.providers.map((p) => {
        const model = this.deps.models.get(p.name);
        return {
          ...p,
          model: p.name === HEURISTIC_PROVIDER ? HEURISTIC_MODEL : (model?.model ?? null),
          structuredOutput: model?.structuredOutput ?? null,
        };
      }),
    };
  }
}
