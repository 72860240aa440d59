/**
 * The embedded bus's entities: the queues, topics and subscriptions of a topology, each with its
 * row in `entities`, its tables and its prepared statements (./embedded-bus-schema.ts), looked up
 * by path or by id (lock tokens carry the id).
 */
import type Database from 'better-sqlite3';
import type { QueueSpec, SubscriptionSpec, TopicSpec } from '../../domain/bus-topology';
import { EmbeddedBusError } from './embedded-bus-errors';
import {
  prepareReceivable,
  prepareSendable,
  receivableSchema,
  sendableSchema,
  type ReceivableStatements,
  type SendableStatements,
  type SharedStatements,
} from './embedded-bus-schema';

/** The shape of BUS_TOPOLOGY: the entities the bus serves, and the duplicate detection window. */
export interface BusTopology {
  topics: readonly TopicSpec[];
  queues: readonly QueueSpec[];
  /** 0 turns duplicate detection off. */
  duplicateDetectionWindowMs: number;
}

export interface Entity {
  path: string;
  id: number;
  kind: 'queue' | 'topic' | 'subscription';
  /** 0 for a topic (it is not receivable). */
  maxDeliveryCount: number;
  /** A topic's subscriptions, with their filters. */
  subscriptions: { entity: Receivable; spec: SubscriptionSpec }[];
  /** Where sequence numbers come from: itself (queue, topic) or its topic (subscription). */
  root: Sendable | undefined;
  /** Duplicate detection (queues, topics). */
  sendable: SendableStatements | undefined;
  /** Messages and dead letters (queues, subscriptions). */
  receivable: ReceivableStatements | undefined;
  /** Duplicate-detection buckets below this one have been forgotten (by this process). */
  forgottenBelow: number;
}

export type Sendable = Entity & { sendable: SendableStatements; root: Sendable };
export type Receivable = Entity & { receivable: ReceivableStatements; root: Sendable };

export function isSendable(entity: Entity): entity is Sendable {
  return entity.sendable !== undefined;
}

export function isReceivable(entity: Entity): entity is Receivable {
  return entity.receivable !== undefined;
}

/** The receivable path of a topic subscription, as Service Bus spells it. */
export function subscriptionPath(topic: string, subscription: string): string {
  return `${topic}/Subscriptions/${subscription}`;
}

/** The entities of one open bus file. */
export class EntityRegistry {
  private readonly byPath = new Map<string, Entity>();
  private readonly byNumber = new Map<number, Entity>();

  /** Inside the opening transaction: each entity's row and tables (if new), then its statements. */
  constructor(db: Database.Database, shared: SharedStatements, topology: BusTopology) {
    const add = (path: string, kind: Entity['kind'], maxDeliveryCount: number, root?: Sendable): Entity => {
      shared.addEntity.run(path);
      const id = shared.entityId.get(path) as number;
      if (kind !== 'topic') db.exec(receivableSchema(id));
      if (kind !== 'subscription') db.exec(sendableSchema(id));
      const entity: Entity = {
        path,
        id,
        kind,
        maxDeliveryCount,
        subscriptions: [],
        root,
        sendable: kind === 'subscription' ? undefined : prepareSendable(db, id),
        receivable: kind === 'topic' ? undefined : prepareReceivable(db, id),
        forgottenBelow: Number.NEGATIVE_INFINITY,
      };
      entity.root ??= entity as Sendable;
      this.byPath.set(path, entity);
      this.byNumber.set(id, entity);
      return entity;
    };
    for (const queue of topology.queues) add(queue.name, 'queue', queue.maxDeliveryCount);
    for (const topicSpec of topology.topics) {
      const topic = add(topicSpec.name, 'topic', 0) as Sendable;
      for (const spec of topicSpec.subscriptions) {
        const path = subscriptionPath(topicSpec.name, spec.name);
        const entity = add(path, 'subscription', spec.maxDeliveryCount, topic) as Receivable;
        topic.subscriptions.push({ entity, spec });
      }
    }
  }

  /** The entity at a path (`topic/subscriptions/name` in any case); MessagingEntityNotFound otherwise. */
  get(entityPath: string): Entity {
    const entity = typeof entityPath === 'string' ? this.byPath.get(normalisePath(entityPath)) : undefined;
    if (!entity) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `messaging entity ${JSON.stringify(entityPath)} does not exist`,
      );
    }
    return entity;
  }

  byId(id: number): Entity | undefined {
    return this.byNumber.get(id);
  }

  sendable(entityPath: string): Sendable {
    const entity = this.get(entityPath);
    if (!isSendable(entity)) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `cannot send to subscription ${entityPath}; send to its topic`,
      );
    }
    return entity;
  }

  receivable(entityPath: string): Receivable {
    const entity = this.get(entityPath);
    if (!isReceivable(entity)) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `${entityPath} is a topic; receive from ${subscriptionPath(entityPath, '<subscription>')}`,
      );
    }
    return entity;
  }
}

/** Checks names (unique, Service Bus characters) and delivery counts; returns the topology. */
export function validateTopology(topology: BusTopology): BusTopology {
  const seen = new Set<string>();
  const add = (path: string, name: string, what: string) => {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/.test(name)) {
      throw new TypeError(`topology: bad ${what} name ${JSON.stringify(name)}`);
    }
    if (seen.has(path)) throw new TypeError(`topology: ${path} is declared twice`);
    seen.add(path);
  };
  for (const queue of topology.queues) {
    add(queue.name, queue.name, 'queue');
    positiveInteger(queue.maxDeliveryCount, `${queue.name}.maxDeliveryCount`);
  }
  for (const topic of topology.topics) {
    add(topic.name, topic.name, 'topic');
    for (const sub of topic.subscriptions) {
      add(subscriptionPath(topic.name, sub.name), sub.name, 'subscription');
      positiveInteger(sub.maxDeliveryCount, `${topic.name}/${sub.name}.maxDeliveryCount`);
    }
  }
  return topology;
}

/** `topic/subscriptions/name` in any case of the middle segment → the canonical spelling. */
function normalisePath(path: string): string {
  const parts = path.split('/');
  if (parts.length === 3 && parts[1]?.toLowerCase() === 'subscriptions') {
    return subscriptionPath(parts[0] ?? '', parts[2] ?? '');
  }
  return path;
}

export function positiveInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value as number;
}

export function nonNegativeInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
  return value as number;
}
