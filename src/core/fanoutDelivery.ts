/**
 * Fan-out execution: find the subscribers of a batch's channels, plan the messages
 * (`fanoutPlan.ts`), post them with bounded concurrency, and sum up what happened per event.
 *
 * Failure handling is per connection: a 410 prunes that connection only; another failure is
 * retried in-process a couple of times, then the connection's remaining messages are re-enqueued
 * as one targeted delivery, so no other subscriber is sent anything twice.
 */
import { mapWithConcurrency } from './concurrency.js';
import type { Envelope } from './envelope.js';
import { type FanoutChunk, planChunks } from './fanoutChunk.js';
import { eventKeyOf, type FanoutPlanOptions, type PlannedMessage, planFanout } from './fanoutPlan.js';
import { channelKey, shardOf } from './subscriptions.js';
import { type TargetedDelivery, type TargetedMessage, toTargetedDeliveries } from './targetedDelivery.js';
import { ConnectionGoneError } from './websocketErrors.js';

export interface FanoutSettings extends FanoutPlanOptions {
  /** `@connections` calls in flight at once. */
  readonly concurrency: number;
  /** Delays before the in-process retries of a failed call (its length = number of retries). */
  readonly retryDelaysMs: readonly number[];
  /**
   * Above this many subscribers (the batch's channels together) the fan-out is split into shard
   * chunks (`fanoutChunk.ts`). Undefined: never split.
   */
  readonly chunkThreshold?: number;
  /** Per-subject audit records for events with at most this many subscribers (0: none). @default 100 */
  readonly subjectRecordsMaxSubscribers?: number;
}

export interface FanoutPorts {
  /** Subscribers of a channel: every shard, or only `shard`. */
  findSubscribers(tenantId: string, channel: string, shard?: number): Promise<readonly string[]>;
  /** Post one message; throws `ConnectionGoneError` on 410, anything else on other failures. */
  post(connectionId: string, body: string): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;
  enqueueRetry(delivery: TargetedDelivery): Promise<void>;
  /** Put a shard chunk on the fan-out queue; without it the fan-out is never split. */
  enqueueChunk?(chunk: FanoutChunk): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export interface EventFanoutSummary {
  /** The subscription shard this summary covers, when the fan-out was split into chunks. */
  readonly shard?: number;
  readonly eventId: string;
  readonly tenantId: string;
  readonly channel: string;
  subscribers: number;
  delivered: number;
  gone: number;
  requeued: number;
  failed: number;
  refreshed: number;
  messages: number;
}

export interface FanoutResult {
  readonly summaries: readonly EventFanoutSummary[];
  /** `@connections` calls made (including retries) and bytes posted successfully. */
  readonly posts: number;
  readonly messagesDelivered: number;
  readonly bytesDelivered: number;
  readonly prunedConnections: readonly string[];
  /**
   * Events for which some connection's retry could not even be enqueued, by `eventKeyOf` (tenant
   * and id: ids are unique per tenant only): the caller redelivers them.
   */
  readonly unqueuedEventKeys: ReadonlySet<string>;
  /** Shard chunks put on the fan-out queue for other invocations (0 when not split). */
  readonly chunksEnqueued: number;
  /** What happened to each event at each connection (the per-subject audit records come from it). */
  readonly connectionOutcomes: readonly ConnectionEventOutcome[];
}

/**
 * One connection's result for some of a batch's events: `delivered` (posted), `refresh` (a
 * `refresh` frame went instead of the event), `gone` (410), `failed` (handed to a targeted retry,
 * or not even that).
 */
export interface ConnectionEventOutcome {
  readonly connectionId: string;
  readonly tenantId: string;
  readonly outcome: 'delivered' | 'refresh' | 'gone' | 'failed';
  readonly eventIds: readonly string[];
}

type ConnectionOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'gone'; readonly undelivered: readonly PlannedMessage[] }
  | { readonly kind: 'failed'; readonly undelivered: readonly PlannedMessage[]; readonly error: unknown };

interface Counters {
  posts: number;
  messagesDelivered: number;
  bytesDelivered: number;
}

/** Post messages to one connection in order, retrying each a few times; stops at the first 410 or exhausted failure. */
export async function deliverToConnection(
  connectionId: string,
  messages: readonly PlannedMessage[],
  ports: Pick<FanoutPorts, 'post' | 'sleep'>,
  retryDelaysMs: readonly number[],
  onDelivered: (message: PlannedMessage) => void,
  counters: Counters = { posts: 0, messagesDelivered: 0, bytesDelivered: 0 },
): Promise<ConnectionOutcome> {
  for (let index = 0; index < messages.length; index++) {
    // biome-ignore lint/style/noNonNullAssertion: index < messages.length
    const message = messages[index]!;
    let lastError: unknown;
    let sent = false;
    for (let attempt = 0; attempt <= retryDelaysMs.length && !sent; attempt++) {
      if (attempt > 0) await ports.sleep(retryDelaysMs[attempt - 1] ?? 0);
      counters.posts += 1;
      try {
        await ports.post(connectionId, message.body);
        sent = true;
      } catch (error) {
        if (error instanceof ConnectionGoneError) return { kind: 'gone', undelivered: messages.slice(index) };
        lastError = error;
      }
    }
    if (!sent) return { kind: 'failed', undelivered: messages.slice(index), error: lastError };
    counters.messagesDelivered += 1;
    counters.bytesDelivered += message.bytes;
    onDelivered(message);
  }
  return { kind: 'delivered' };
}

/**
 * Split a wide fan-out: when the subscribers outnumber `chunkThreshold`, put one chunk per
 * subscription shard but the first on the queue, and return that first shard for this invocation.
 * Chunks are enqueued before anything is posted, so a failure here means nothing was sent yet
 * (a chunk already enqueued is delivered again on the retry: clients drop duplicates by id).
 */
async function splitIntoChunks(
  events: readonly Envelope[],
  subscribers: ReadonlyMap<string, readonly string[]>,
  ports: FanoutPorts,
  settings: FanoutSettings,
): Promise<
  { inlineShard: number; shardOf: ReadonlyMap<string, number>; chunksEnqueued: number } | undefined
> {
  const enqueueChunk = ports.enqueueChunk;
  if (settings.chunkThreshold === undefined || !enqueueChunk) return undefined;
  const connections = new Set([...subscribers.values()].flat());
  if (connections.size <= settings.chunkThreshold) return undefined;
  // One hash per connection, reused to keep the inline shard's subscribers.
  const shardById = new Map([...connections].map((id) => [id, shardOf(id)]));
  const [inlineShard, ...otherShards] = [...new Set(shardById.values())].sort((a, b) => a - b);
  if (inlineShard === undefined || otherShards.length === 0) return undefined;
  const chunks = planChunks(events, otherShards);
  if (!chunks) return undefined;
  await mapWithConcurrency(chunks, 8, (chunk) => enqueueChunk(chunk));
  return { inlineShard, shardOf: shardById, chunksEnqueued: chunks.length };
}

/**
 * Fan a batch of events out to their subscribers, or (`scope.shard`, a chunk) to one shard's.
 * A wide fan-out is split into shard chunks first (`splitIntoChunks`).
 */
export async function fanOut(
  events: readonly Envelope[],
  ports: FanoutPorts,
  settings: FanoutSettings,
  scope: { readonly shard?: number } = {},
): Promise<FanoutResult> {
  const keys = new Map<string, { tenantId: string; channel: string }>();
  for (const event of events) keys.set(channelKey(event.tenantId, event.channel), event);
  const subscribers = new Map<string, readonly string[]>();
  await Promise.all(
    [...keys].map(async ([key, { tenantId, channel }]) => {
      subscribers.set(key, await ports.findSubscribers(tenantId, channel, scope.shard));
    }),
  );
  let shard = scope.shard;
  let chunksEnqueued = 0;
  const split = shard === undefined ? await splitIntoChunks(events, subscribers, ports, settings) : undefined;
  if (split) {
    shard = split.inlineShard;
    chunksEnqueued = split.chunksEnqueued;
    // The split hashed every subscriber already.
    const shardById = split.shardOf;
    for (const [key, ids] of subscribers)
      subscribers.set(
        key,
        ids.filter((id) => (shardById.get(id) ?? shardOf(id)) === shard),
      );
  }

  const plan = planFanout(events, subscribers, settings);
  // Keyed by tenant and id: the same id in two tenants is two events, each with its own summary.
  const summaries = new Map<string, EventFanoutSummary>();
  for (const event of plan.events) {
    summaries.set(eventKeyOf(event), {
      ...(shard === undefined ? {} : { shard }),
      eventId: event.id,
      tenantId: event.tenantId,
      channel: event.channel,
      subscribers: plan.subscribersByEvent.get(eventKeyOf(event)) ?? 0,
      delivered: 0,
      gone: 0,
      requeued: 0,
      failed: 0,
      refreshed: 0,
      messages: 0,
    });
  }
  // A group's messages carry one tenant's events, so within a group an id names one event.
  const eventRefsByTenant = new Map<string, Map<string, { id: string; tenantId: string; channel: string }>>();
  for (const e of plan.events) {
    const refs = eventRefsByTenant.get(e.tenantId) ?? new Map();
    refs.set(e.id, { id: e.id, tenantId: e.tenantId, channel: e.channel });
    eventRefsByTenant.set(e.tenantId, refs);
  }
  const bump = (
    tenantId: string,
    ids: readonly string[],
    field: 'delivered' | 'gone' | 'requeued' | 'failed' | 'refreshed' | 'messages',
  ) => {
    for (const id of ids) {
      const summary = summaries.get(eventKeyOf({ tenantId, id }));
      if (summary) summary[field] += 1;
    }
  };

  // A group's messages go to each of its connections: their events' summaries are looked up once per message.
  const summariesOf = (tenantId: string, ids: readonly string[]): EventFanoutSummary[] => {
    const found: EventFanoutSummary[] = [];
    for (const id of ids) {
      const summary = summaries.get(eventKeyOf({ tenantId, id }));
      if (summary) found.push(summary);
    }
    return found;
  };
  const summariesOfMessage = new Map<
    PlannedMessage,
    { delivered: EventFanoutSummary[]; refreshed: EventFanoutSummary[] }
  >();

  const counters: Counters = { posts: 0, messagesDelivered: 0, bytesDelivered: 0 };
  const connectionOutcomes: ConnectionEventOutcome[] = [];
  const pruned: string[] = [];
  const unqueued = new Set<string>();
  const jobs = plan.groups.flatMap((group) =>
    group.connectionIds.map((connectionId) => ({ connectionId, group })),
  );

  await mapWithConcurrency(jobs, settings.concurrency, async ({ connectionId, group }) => {
    const outcome = await deliverToConnection(
      connectionId,
      group.messages,
      ports,
      settings.retryDelaysMs,
      (message) => {
        let found = summariesOfMessage.get(message);
        if (!found) {
          found = {
            delivered: summariesOf(group.tenantId, message.eventIds),
            refreshed: summariesOf(group.tenantId, message.refreshedEventIds),
          };
          summariesOfMessage.set(message, found);
        }
        for (const summary of found.delivered) {
          summary.delivered += 1;
          summary.messages += 1;
        }
        for (const summary of found.refreshed) summary.refreshed += 1;
        const { tenantId } = group;
        if (message.eventIds.length > 0)
          connectionOutcomes.push({
            connectionId,
            tenantId,
            outcome: 'delivered',
            eventIds: message.eventIds,
          });
        if (message.refreshedEventIds.length > 0)
          connectionOutcomes.push({
            connectionId,
            tenantId,
            outcome: 'refresh',
            eventIds: message.refreshedEventIds,
          });
      },
      counters,
    );
    if (outcome.kind === 'delivered') return;
    const undeliveredIds = uniqueEventIds(outcome.undelivered);
    connectionOutcomes.push({
      connectionId,
      tenantId: group.tenantId,
      outcome: outcome.kind,
      eventIds: undeliveredIds,
    });
    if (outcome.kind === 'gone') {
      bump(group.tenantId, undeliveredIds, 'gone');
      pruned.push(connectionId);
      // The record also expires by TTL, so a failed delete only delays the cleanup.
      await ports.deleteConnection(connectionId).catch(() => undefined);
      return;
    }
    const deliveries = toTargetedDeliveries(
      connectionId,
      1,
      outcome.undelivered.map(toTargetedMessage),
      eventRefsByTenant.get(group.tenantId) ?? new Map(),
    );
    for (const delivery of deliveries) {
      const ids = uniqueEventIds(delivery.messages);
      try {
        await ports.enqueueRetry(delivery);
        bump(group.tenantId, ids, 'requeued');
      } catch {
        bump(group.tenantId, ids, 'failed');
        for (const id of ids) unqueued.add(eventKeyOf({ tenantId: group.tenantId, id }));
      }
    }
  });

  return {
    summaries: [...summaries.values()],
    posts: counters.posts,
    messagesDelivered: counters.messagesDelivered,
    bytesDelivered: counters.bytesDelivered,
    prunedConnections: pruned,
    unqueuedEventKeys: unqueued,
    chunksEnqueued,
    connectionOutcomes,
  };
}

export type TargetedOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'failed'; readonly remaining: TargetedDelivery; readonly error: unknown };

/** Retry a targeted delivery (one connection's messages); the caller re-queues `remaining` or dead-letters it. */
export async function deliverTargeted(
  delivery: TargetedDelivery,
  ports: Pick<FanoutPorts, 'post' | 'sleep' | 'deleteConnection'>,
  settings: Pick<FanoutSettings, 'retryDelaysMs'>,
): Promise<TargetedOutcome> {
  const outcome = await deliverToConnection(
    delivery.connectionId,
    delivery.messages,
    ports,
    settings.retryDelaysMs,
    () => {},
  );
  if (outcome.kind === 'delivered') return outcome;
  if (outcome.kind === 'gone') {
    await ports.deleteConnection(delivery.connectionId).catch(() => undefined);
    return { kind: 'gone' };
  }
  const remainingIds = new Set(uniqueEventIds(outcome.undelivered));
  return {
    kind: 'failed',
    error: outcome.error,
    remaining: {
      ...delivery,
      attempt: delivery.attempt + 1,
      messages: outcome.undelivered.map(toTargetedMessage),
      events: delivery.events.filter((e) => remainingIds.has(e.id)),
    },
  };
}

function uniqueEventIds(
  messages: readonly Pick<PlannedMessage, 'eventIds' | 'refreshedEventIds'>[],
): string[] {
  return [...new Set(messages.flatMap((m) => [...m.eventIds, ...m.refreshedEventIds]))];
}

function toTargetedMessage(message: PlannedMessage): TargetedMessage {
  return {
    kind: message.kind,
    body: message.body,
    bytes: message.bytes,
    eventIds: [...message.eventIds],
    refreshedEventIds: [...message.refreshedEventIds],
  };
}
