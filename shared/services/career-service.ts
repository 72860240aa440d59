import { z } from 'zod';
import { recommendCareer, type CareerRecommendations } from '../domain/career/recommendations';
import { toJsonObject, type JsonObject } from '../domain/json';
import type { CareerPathways } from '../domain/job-titles';
import type { Clock } from '../ports/clock';
import type { DocumentCollection, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { CandidateService } from './candidate-service';
import { careerPartition, newRecordId, queryPage } from './career-records';
import { ServiceError } from './errors';
import type { JobTitleService } from './job-title-service';
import type { ProviderGateway } from './provider-gateway';
import type { Metadata } from './text-analytics-service';

/**
 * Career services for one user: recommendations (next roles and skills to learn, each with its
 * reason and evidence), pathways from the user's current title, and coaching sessions answered
 * through the provider lock (a rule-based answer from the recommendations, marked degraded, when no
 * provider answers), kept per user.
 */

export const COACHING_SESSION_TYPE = 'coaching-session';
export const COACHING_TOPICS = [
  'general',
  'career-change',
  'promotion',
  'skills',
  'job-search',
  'interview',
] as const;
export type CoachingTopic = (typeof COACHING_TOPICS)[number];
export const MAX_QUESTION = 2000;
export const MAX_TURNS_PER_SESSION = 20;
export const MAX_SESSIONS_PER_USER = 100;
export const HEURISTIC_COACH_MODEL = 'coaching-rules-v1';
const MAX_ANSWER = 4000;
const MAX_ACTION_ITEMS = 10;
const sessionDocId = (id: string) => `coaching:${id}`;

export interface CoachingTurn {
  id: string;
  question: string;
  answer: string;
  actionItems: string[];
  metadata: Metadata;
  at: string;
}

export interface CoachingSession {
  id: string;
  userId: string;
  topic: CoachingTopic;
  turns: CoachingTurn[];
  createdAt: string;
  updatedAt: string;
}

const coachWire = z.strictObject({
  answer: z.string(),
  actionItems: z.array(z.string()),
  confidence: z.number().min(0).max(1),
});

export class CareerService {
  constructor(
    private readonly deps: {
      store: DocumentCollection;
      clock: Clock;
      candidates: CandidateService;
      titles: JobTitleService;
      gateway: ProviderGateway;
    },
  ) {}

  async recommendations(userId: string, options: { title?: string } = {}): Promise<CareerRecommendations> {
    const { candidate, index } = await this.deps.candidates.view(userId, options);
    return recommendCareer(index, candidate);
  }

  /** get_career_pathways for the user's current title (profile, latest resume, or `title`). */
  async pathways(userId: string, options: { title?: string } = {}): Promise<JsonObject> {
    const { candidate } = await this.deps.candidates.view(userId, options);
    if (!candidate.current) {
      throw new ServiceError(
        'unprocessable',
        `No current title is known for user ${userId}. ${candidate.notes.join(' ')}`,
        [
          {
            path: 'title',
            message: 'set the profile jobTitle, upload a resume with an experience section, or pass ?title=',
          },
        ],
      );
    }
    const pathways: CareerPathways = await this.deps.titles.pathways(candidate.current.title);
    const recommendations = await this.recommendations(userId, options);
    return toJsonObject({
      userId,
      current: candidate.current,
      target: candidate.target,
      pathways,
      pathToTarget: recommendations.pathToTarget,
      readiness: recommendations.nextRoles.map((r) => ({
        titleId: r.titleId,
        title: r.title,
        kind: r.kind,
        readiness: r.readiness,
        missingSkills: r.missingSkills,
      })),
    });
  }

  /** Checks a session can take another turn (before any tokens are spent); the session when continuing one. */
  async prepareCoaching(
    userId: string,
    sessionId: string | undefined,
  ): Promise<StoredDocument<CoachingSession> | undefined> {
    const pk = careerPartition(userId);
    if (sessionId === undefined) {
      const count = await this.deps.store.count({ type: COACHING_SESSION_TYPE, pk });
      if (count >= MAX_SESSIONS_PER_USER) {
        throw new ServiceError(
          'conflict',
          `User ${userId} has ${MAX_SESSIONS_PER_USER} coaching sessions (the most kept).`,
        );
      }
      return undefined;
    }
    const doc = await this.deps.store.read<CoachingSession>(pk, sessionDocId(sessionId));
    if (!doc) throw new ServiceError('not-found', `No coaching session ${sessionId} for user ${userId}.`);
    if (doc.body.turns.length >= MAX_TURNS_PER_SESSION) {
      throw new ServiceError(
        'conflict',
        `Session ${sessionId} has ${MAX_TURNS_PER_SESSION} turns (the most kept); start a new one.`,
      );
    }
    return doc;
  }

  /** The coaching answer (not yet stored): through the provider lock, or the rule-based one. */
  async coach(
    userId: string,
    input: { question: string; topic: CoachingTopic; sessionId?: string },
    previous: CoachingSession | undefined,
  ): Promise<{ sessionId: string; turn: CoachingTurn; topic: CoachingTopic }> {
    const recommendations = await this.recommendations(userId);
    const context = {
      currentTitle: recommendations.current?.title ?? null,
      targetTitle: recommendations.target?.title ?? null,
      nextRoles: recommendations.nextRoles.slice(0, 5).map((r) => ({
        title: r.title,
        kind: r.kind,
        readiness: r.readiness,
        missingSkills: r.missingSkills.slice(0, 8),
      })),
      skillsToLearn: recommendations.skillsToLearn.map((s) => s.skill),
      skillCount: recommendations.skills.total,
    };
    const history = (previous?.turns ?? [])
      .slice(-4)
      .map((t) => ({ question: t.question, answer: t.answer.slice(0, 1000) }));
    const { $schema: _s, ...schema } = z.toJSONSchema(coachWire) as Record<string, unknown>;
    const outcome = await this.deps.gateway.complete(
      {
        messages: [
          {
            role: 'system',
            content:
              'You are a careful career coach for a careers portal. Base advice on the candidate facts given (from a job-title taxonomy and their profile); never invent facts about the candidate. Answer with one JSON object matching the schema: answer (plain text, under 600 words), actionItems (up to 10 short concrete steps), confidence (0-1).',
          },
          {
            role: 'user',
            content: `Topic: ${input.topic}\nCandidate facts: ${JSON.stringify(context)}\nEarlier turns: ${JSON.stringify(history)}\nJSON Schema: ${JSON.stringify(schema)}\n\nQuestion:\n"""\n${input.question}\n"""`,
          },
        ],
        responseSchema: { name: 'coaching_answer', schema },
        maxTokens: 1500,
      },
      (json) => {
        const answer = coachWire.parse(json);
        if (answer.answer.trim() === '') throw new Error('the answer is empty');
        return {
          answer: answer.answer.trim().slice(0, MAX_ANSWER),
          actionItems: answer.actionItems
            .map((a) => a.trim())
            .filter((a) => a !== '')
            .slice(0, MAX_ACTION_ITEMS)
            .map((a) => a.slice(0, 300)),
          confidence: answer.confidence,
        };
      },
    );
    const at = new Date(this.deps.clock.now()).toISOString();
    const turnId = newRecordId('turn');
    const sessionId = input.sessionId ?? newRecordId('coach');
    if (outcome.kind === 'answer') {
      return {
        sessionId,
        topic: previous?.topic ?? input.topic,
        turn: {
          id: turnId,
          question: input.question,
          answer: outcome.value.answer,
          actionItems: outcome.value.actionItems,
          metadata: {
            provider: outcome.provider,
            model: outcome.model,
            confidence: Math.round(outcome.value.confidence * 1000) / 1000,
            degraded: false,
            ...(outcome.failure ? { failure: outcome.failure } : {}),
          },
          at,
        },
      };
    }
    const rules = ruleBasedAnswer(recommendations);
    return {
      sessionId,
      topic: previous?.topic ?? input.topic,
      turn: {
        id: turnId,
        question: input.question,
        ...rules,
        metadata: {
          provider: 'heuristic',
          model: HEURISTIC_COACH_MODEL,
          method: 'rule-based summary of the career recommendations; it does not read the question',
          degraded: true,
          ...(outcome.failure ? { failure: outcome.failure } : {}),
        },
        at,
      },
    };
  }

  /** Stores a turn (idempotent on the turn id: a replayed metered answer is stored once). */
  async saveTurn(
    userId: string,
    result: { sessionId: string; topic: CoachingTopic; turn: CoachingTurn },
  ): Promise<CoachingSession> {
    const pk = careerPartition(userId);
    for (let attempt = 0; attempt < 20; attempt++) {
      const doc = await this.deps.store.read<CoachingSession>(pk, sessionDocId(result.sessionId));
      if (doc?.body.turns.some((t) => t.id === result.turn.id)) return doc.body;
      const session: CoachingSession = doc
        ? {
            ...doc.body,
            turns: [...doc.body.turns, result.turn].slice(-MAX_TURNS_PER_SESSION),
            updatedAt: result.turn.at,
          }
        : {
            id: result.sessionId,
            userId,
            topic: result.topic,
            turns: [result.turn],
            createdAt: result.turn.at,
            updatedAt: result.turn.at,
          };
      try {
        if (doc)
          await this.deps.store.upsert(
            pk,
            { id: sessionDocId(result.sessionId), type: COACHING_SESSION_TYPE, body: session },
            { ifMatch: doc.etag },
          );
        else
          await this.deps.store.create(pk, {
            id: sessionDocId(result.sessionId),
            type: COACHING_SESSION_TYPE,
            body: session,
          });
        return session;
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed') && !isStoreError(error, 'conflict')) throw error;
      }
    }
    throw new ServiceError('unavailable', 'The coaching session is being changed concurrently; retry.');
  }

  async sessions(
    userId: string,
    page: { limit: number; continuation?: string },
  ): Promise<{ sessions: CoachingSession[]; next: string | null }> {
    const result = await queryPage<CoachingSession>(this.deps.store, {
      type: COACHING_SESSION_TYPE,
      pk: careerPartition(userId),
      limit: page.limit,
      ...(page.continuation ? { continuation: page.continuation } : {}),
    });
    const sessions = result.items
      .map((d) => d.body)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
    return { sessions, next: result.continuation ?? null };
  }
}

/** The answer when no AI provider answers: the recommendations, as text. */
export function ruleBasedAnswer(r: CareerRecommendations): { answer: string; actionItems: string[] } {
  const parts: string[] = [
    'This is a rule-based answer (no AI provider answered): it summarises your career recommendations and does not address the specifics of your question.',
  ];
  if (r.current) parts.push(`Your current title is ${r.current.title}.`);
  if (r.target) parts.push(`Your target is ${r.target.title}.`);
  if (r.pathToTarget) {
    parts.push(
      `The usual promotion path there is ${r.pathToTarget.steps.map((s) => s.title).join(' → ')} (typically ${r.pathToTarget.typicalYears.min}–${r.pathToTarget.typicalYears.max} years).`,
    );
  }
  if (r.nextRoles.length > 0) {
    parts.push(
      `Next roles to consider: ${r.nextRoles
        .slice(0, 4)
        .map((n) => `${n.title} (${Math.round(n.readiness * 100)}% of its typical skills)`)
        .join('; ')}.`,
    );
  }
  if (r.skillsToLearn.length > 0)
    parts.push(
      `Skills to build: ${r.skillsToLearn
        .slice(0, 5)
        .map((s) => s.skill)
        .join(', ')}.`,
    );
  parts.push(...r.notes);
  const actionItems = [
    ...r.skillsToLearn.slice(0, 5).map((s) => `Build and evidence ${s.skill} (${s.reason})`),
    ...r.nextRoles
      .slice(0, 3)
      .map((n) => `Look at ${n.title} openings: GET /api/jobs/matches shows how your skills fit them`),
  ].slice(0, MAX_ACTION_ITEMS);
  return { answer: parts.join(' ').slice(0, MAX_ANSWER), actionItems };
}
