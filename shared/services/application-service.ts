import type { EventLimits } from './event-outbox';
import type { PendingEvent } from '../domain/cloud-event';
import { checkTransition, type ApplicationStatus } from '../domain/career/applications';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { isAdmin, mayActForUser } from './access-policy';
import { careerEventSource, careerPartition, newRecordId, queryPage } from './career-records';
import { ServiceError } from './errors';
import { outboxOperation, toOutboxItem } from './event-outbox';
import type { JobPostingsService } from './job-postings-service';
import { principalRef, type Principal, type PrincipalRef } from './principal';
import type { CommitListener } from './sync-service';

/**
 * Job applications. Each lives in the applicant's career partition (`application:<id>`, next to a
 * marker `applied:<postingId>` that makes a second application to the same posting a 409), and
 * every change — the application itself and each status change — commits in one batch with an
 * `application_change` event (the outbox), so both portals see it.
 */

export const APPLICATION_TYPE = 'job-application';
export const APPLICATION_EVENT_TYPE = 'application_change';
const MARKER_TYPE = 'job-application-marker';
const appDocId = (id: string) => `application:${id}`;
const markerId = (postingId: string) => `applied:${postingId}`;
/** Status changes kept in an application's history. */
export const MAX_HISTORY = 50;
export const MAX_NOTE = 2000;
const MAX_ATTEMPTS = 20;

export interface ApplicationChange {
  status: ApplicationStatus;
  at: string;
  /** Who made the change (a key, an app-role token or the applicant themselves). */
  by: PrincipalRef;
  note?: string;
}

export interface Application {
  id: string;
  userId: string;
  postingId: string;
  posting: { title: string; company: string | null };
  status: ApplicationStatus;
  note: string | null;
  version: number;
  history: ApplicationChange[];
  createdAt: string;
  updatedAt: string;
}

export class ApplicationService {
  constructor(
    private readonly deps: {
      store: DocumentCollection;
      clock: Clock;
      postings: JobPostingsService;
      /** Event retention and size limit (events over BRIDGE_MAX_EVENT_BYTES are refused with 413). */
      events: EventLimits;
      onCommit?: CommitListener;
    },
  ) {}

  async create(
    userId: string,
    input: { postingId: string; note?: string },
    principal: Principal,
  ): Promise<Application> {
    const posting = await this.deps.postings.find(input.postingId);
    if (!posting) throw new ServiceError('not-found', `No job posting ${input.postingId}.`);
    const pk = careerPartition(userId);
    const now = new Date(this.deps.clock.now()).toISOString();
    const by = principalRef(principal);
    const application: Application = {
      id: newRecordId('app'),
      userId,
      postingId: posting.id,
      posting: { title: posting.title, company: posting.company },
      status: 'applied',
      note: input.note ?? null,
      version: 1,
      history: [{ status: 'applied', at: now, by, ...(input.note ? { note: input.note } : {}) }],
      createdAt: now,
      updatedAt: now,
    };
    const ops: BatchOperation[] = [
      { op: 'create', id: markerId(posting.id), type: MARKER_TYPE, body: { applicationId: application.id } },
      { op: 'create', id: appDocId(application.id), type: APPLICATION_TYPE, body: application },
    ];
    try {
      await this.commit(pk, ops, this.event(application, null, principal));
    } catch (error) {
      if (isStoreError(error, 'conflict')) {
        const marker = await this.deps.store.read<{ applicationId: string }>(pk, markerId(posting.id));
        throw new ServiceError(
          'conflict',
          `User ${userId} has already applied to posting ${posting.id}${marker ? ` (application ${marker.body.applicationId})` : ''}.`,
        );
      }
      throw error;
    }
    return application;
  }

  /** A user's applications, newest first; an admin may list everyone's (optionally by status). */
  async list(
    filter: { userId?: string; status?: ApplicationStatus },
    page: { limit: number; continuation?: string },
  ): Promise<{ applications: Application[]; next: string | null }> {
    const result = await queryPage<Application>(this.deps.store, {
      type: APPLICATION_TYPE,
      ...(filter.userId !== undefined ? { pk: careerPartition(filter.userId) } : {}),
      ...(filter.status !== undefined ? { where: { status: filter.status } } : {}),
      limit: page.limit,
      ...(page.continuation ? { continuation: page.continuation } : {}),
    });
    const applications = result.items
      .map((d) => d.body)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return { applications, next: result.continuation ?? null };
  }

  async get(id: string, principal: Principal): Promise<Application> {
    return (await this.find(id, principal)).body;
  }

  /**
   * Moves an application to `status`: admins along the state machine, anyone else only to
   * `withdrawn`. An invalid transition is a 409 naming the allowed ones.
   */
  async changeStatus(
    id: string,
    change: { status: ApplicationStatus; note?: string },
    principal: Principal,
    ifMatch?: string,
  ): Promise<Application> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.find(id, principal);
      if (
        ifMatch !== undefined &&
        ifMatch.trim() !== '*' &&
        ifMatch.trim().replace(/^W\//, '') !== applicationEtag(current.body.version)
      ) {
        throw new ServiceError(
          'precondition-failed',
          `The application is at version ${current.body.version}; If-Match does not hold.`,
        );
      }
      const check = checkTransition(
        current.body.status,
        change.status,
        isAdmin(principal) ? 'admin' : 'candidate',
      );
      if (!check.ok) {
        throw new ServiceError(check.reason === 'not-allowed' ? 'forbidden' : 'conflict', check.message, [
          {
            path: '/status',
            message: `allowed from ${current.body.status}: ${check.allowed.join(', ') || 'none'}`,
          },
        ]);
      }
      const now = new Date(this.deps.clock.now()).toISOString();
      const entry: ApplicationChange = {
        status: change.status,
        at: now,
        by: principalRef(principal),
        ...(change.note ? { note: change.note } : {}),
      };
      const next: Application = {
        ...current.body,
        status: change.status,
        version: current.body.version + 1,
        history: [...current.body.history, entry].slice(-MAX_HISTORY),
        updatedAt: now,
      };
      try {
        await this.commit(
          current.pk,
          [{ op: 'replace', id: appDocId(id), type: APPLICATION_TYPE, body: next, ifMatch: current.etag }],
          this.event(next, current.body.status, principal),
        );
        return next;
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed') || attempt + 1 >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async find(id: string, principal: Principal): Promise<StoredDocument<Application>> {
    const page = await this.deps.store.query<Application>({
      type: APPLICATION_TYPE,
      where: { id },
      limit: 1,
    });
    const doc = page.items[0];
    if (!doc || !mayActForUser(principal, doc.body.userId))
      throw new ServiceError('not-found', `No application ${id}.`);
    return doc;
  }

  private event(
    application: Application,
    previous: ApplicationStatus | null,
    principal: Principal,
  ): PendingEvent {
    return {
      specversion: '1.0',
      id: `application:${application.id}:${application.version}`,
      source: careerEventSource(application.userId),
      type: APPLICATION_EVENT_TYPE,
      subject: application.userId,
      time: application.updatedAt,
      datacontenttype: 'application/json',
      data: {
        applicationId: application.id,
        userId: application.userId,
        postingId: application.postingId,
        status: application.status,
        previousStatus: previous,
        version: application.version,
        by: principal.role,
      },
    };
  }

  private async commit(pk: string, ops: BatchOperation[], event: PendingEvent): Promise<void> {
    const now = this.deps.clock.now();
    const eventOp = outboxOperation(event.id, event, now, this.deps.events);
    const results = await this.deps.store.batch(pk, [...ops, eventOp]);
    const item = toOutboxItem(pk, eventOp, results[ops.length]?.seq);
    if (item) this.deps.onCommit?.([item]);
  }
}

export const applicationEtag = (version: number) => `"v${version}"`;
