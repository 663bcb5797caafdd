/**
 * Fan-out planning (pure): which messages each subscribed connection gets for one batch of events.
 *
 * Coalescing: API Gateway bills per message, so the events of a batch that are due to
 * one connection go out together as `events` frames, in position order, split so no message
 * exceeds the WebSocket limit or the configured events-per-frame cap. Connections subscribed to
 * the same set of the batch's channels receive identical messages, so messages are planned (and
 * serialised) once per distinct channel set, not once per connection: a 100,000-subscriber
 * channel costs one plan. An event too large for any message becomes a `refresh` frame for its
 * channel. With coalescing off every event is its own `event` frame.
 */
import type { Envelope } from './envelope.js';
import {
  byteLength,
  EVENT_FRAME_OVERHEAD_BYTES,
  EVENTS_FRAME_OVERHEAD_BYTES,
  eventFrameFromSerialized,
  eventsFrameFromSerialized,
  refreshFrame,
  serializeEnvelope,
  serializeFrame,
} from './frames.js';
import { encodeKey } from './keyCodec.js';
import { WEBSOCKET_MAX_MESSAGE_BYTES } from './limits.js';
import { channelKey } from './subscriptions.js';

export interface FanoutPlanOptions {
  /** One `events` frame per connection per group (true) or one `event` frame per event (false). */
  readonly coalesce: boolean;
  readonly maxEventsPerFrame: number;
  /** Largest message API Gateway accepts (128 KB). */
  readonly maxMessageBytes: number;
}

/**
 * Events in one `events` message unless configured (`fanout.maxEventsPerFrame`,
 * `FANOUT_MAX_EVENTS_PER_FRAME`); the one source of this default for the stack, the handlers,
 * resume and the cost model.
 */
export const DEFAULT_MAX_EVENTS_PER_FRAME = 50;

export const DEFAULT_FANOUT_PLAN_OPTIONS: FanoutPlanOptions = {
  coalesce: true,
  maxEventsPerFrame: DEFAULT_MAX_EVENTS_PER_FRAME,
  maxMessageBytes: WEBSOCKET_MAX_MESSAGE_BYTES,
};

export type PlannedMessageKind = 'event' | 'events' | 'refresh';

export interface PlannedMessage {
  readonly kind: PlannedMessageKind;
  /** The serialised frame, exactly as posted. */
  readonly body: string;
  readonly bytes: number;
  /** Events delivered by this message (empty for a `refresh`). */
  readonly eventIds: readonly string[];
  /** Events replaced by this `refresh` (payload too large). */
  readonly refreshedEventIds: readonly string[];
}

/** Connections that receive the same messages, in order; all the messages' events are of `tenantId`. */
export interface DeliveryGroup {
  readonly tenantId: string;
  readonly connectionIds: readonly string[];
  readonly messages: readonly PlannedMessage[];
}

export interface FanoutPlan {
  readonly groups: readonly DeliveryGroup[];
  /** Events of the batch after de-duplication by tenant and id, in position order. */
  readonly events: readonly Envelope[];
  /** Subscribed connections per event, by `eventKeyOf` (event ids are unique per tenant only). */
  readonly subscribersByEvent: ReadonlyMap<string, number>;
}

/** An event's identity: its tenant and id (the same id in two tenants is two events). Injective. */
export function eventKeyOf(event: Pick<Envelope, 'tenantId' | 'id'>): string {
  return encodeKey([event.tenantId, event.id]);
}

/** Order key of the pipeline: `position` (`<time>#<id>`), compared as strings. */
export function comparePosition(a: Pick<Envelope, 'position'>, b: Pick<Envelope, 'position'>): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

/**
 * De-duplicate by tenant and id (EventBridge and SQS deliver at least once) and sort by position; then, per
 * tenant+channel+epoch, put the numbered events in sequence order within the places that
 * channel's events hold (a producer's clock may disagree with the order the rows were written).
 */
export function orderEvents(events: readonly Envelope[]): Envelope[] {
  const byKey = new Map<string, Envelope>();
  for (const event of events) {
    const key = eventKeyOf(event);
    if (!byKey.has(key)) byKey.set(key, event);
  }
  const ordered = [...byKey.values()].sort(comparePosition);
  const slots = new Map<string, number[]>();
  ordered.forEach((event, index) => {
    if (event.seq === undefined || event.epoch === undefined) return;
    const key = JSON.stringify([event.tenantId, event.channel, event.epoch]);
    const list = slots.get(key) ?? [];
    list.push(index);
    slots.set(key, list);
  });
  for (const indexes of slots.values()) {
    if (indexes.length < 2) continue;
    const bySeq = indexes.map((i) => ordered[i] as Envelope).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    indexes.forEach((slot, k) => {
      ordered[slot] = bySeq[k] as Envelope;
    });
  }
  return ordered;
}

/**
 * Plan the messages for a batch.
 * @param subscribers connection ids per `<tenantId>#<channel>` (see `channelKey`)
 * @example planFanout(events, new Map([['t1#orders', ['c1', 'c2']]]), DEFAULT_FANOUT_PLAN_OPTIONS)
 */
export function planFanout(
  batch: readonly Envelope[],
  subscribers: ReadonlyMap<string, readonly string[]>,
  options: FanoutPlanOptions = DEFAULT_FANOUT_PLAN_OPTIONS,
): FanoutPlan {
  const events = orderEvents(batch);
  const tenantOfKey = new Map(
    events.map((event) => [channelKey(event.tenantId, event.channel), event.tenantId]),
  );

  // (connection, tenant) → the batch's channel keys of that tenant it is subscribed to. A connection
  // belongs to one tenant, so this is one entry per connection; keying by tenant too keeps every
  // group (and every message) to one tenant's events even if a subscriber list were wrong.
  const keysByTarget = new Map<string, { connectionId: string; tenantId: string; keys: string[] }>();
  for (const key of [...tenantOfKey.keys()].sort()) {
    const tenantId = tenantOfKey.get(key) ?? '';
    for (const connectionId of new Set(subscribers.get(key) ?? [])) {
      const target = encodeKey([connectionId, tenantId]);
      const entry = keysByTarget.get(target);
      if (entry) entry.keys.push(key);
      else keysByTarget.set(target, { connectionId, tenantId, keys: [key] });
    }
  }

  // connections with the same channel set get the same messages
  const connectionsBySignature = new Map<
    string,
    { tenantId: string; keys: Set<string>; connectionIds: string[] }
  >();
  for (const { connectionId, tenantId, keys } of keysByTarget.values()) {
    const signature = keys.join('\n');
    const entry = connectionsBySignature.get(signature);
    if (entry) entry.connectionIds.push(connectionId);
    else
      connectionsBySignature.set(signature, { tenantId, keys: new Set(keys), connectionIds: [connectionId] });
  }

  const serialized = new Map<string, string>();
  const serialize = (event: Envelope): string => {
    const key = eventKeyOf(event);
    let text = serialized.get(key);
    if (text === undefined) {
      text = serializeEnvelope(event);
      serialized.set(key, text);
    }
    return text;
  };

  const groups: DeliveryGroup[] = [];
  for (const { tenantId, keys, connectionIds } of connectionsBySignature.values()) {
    const due = events.filter((event) => keys.has(channelKey(event.tenantId, event.channel)));
    groups.push({ tenantId, connectionIds, messages: planMessages(due, serialize, options) });
  }

  const subscribersByEvent = new Map<string, number>();
  for (const event of events) {
    subscribersByEvent.set(
      eventKeyOf(event),
      new Set(subscribers.get(channelKey(event.tenantId, event.channel)) ?? []).size,
    );
  }
  return { groups, events, subscribersByEvent };
}

/** Messages for one connection's due events (already in position order). */
export function planMessages(
  due: readonly Envelope[],
  serialize: (event: Envelope) => string,
  options: FanoutPlanOptions,
): PlannedMessage[] {
  const messages: PlannedMessage[] = [];
  let pending: { ids: string[]; texts: string[]; bytes: number } = { ids: [], texts: [], bytes: 0 };

  const flush = (): void => {
    if (pending.ids.length === 0) return;
    const [onlyText] = pending.texts;
    const body =
      pending.ids.length === 1 && onlyText !== undefined
        ? eventFrameFromSerialized(onlyText)
        : eventsFrameFromSerialized(pending.texts);
    messages.push({
      kind: pending.ids.length === 1 ? 'event' : 'events',
      body,
      bytes: byteLength(body),
      eventIds: pending.ids,
      refreshedEventIds: [],
    });
    pending = { ids: [], texts: [], bytes: 0 };
  };

  for (const event of due) {
    const text = serialize(event);
    const bytes = byteLength(text);
    // The smaller of the two frame shapes decides whether the event fits in a message at all.
    if (bytes + Math.min(EVENT_FRAME_OVERHEAD_BYTES, EVENTS_FRAME_OVERHEAD_BYTES) > options.maxMessageBytes) {
      flush();
      const body = serializeFrame(refreshFrame(event.channel, 'payload_too_large', event.id));
      messages.push({
        kind: 'refresh',
        body,
        bytes: byteLength(body),
        eventIds: [],
        refreshedEventIds: [event.id],
      });
      continue;
    }
    if (!options.coalesce) {
      pending = { ids: [event.id], texts: [text], bytes };
      flush();
      continue;
    }
    const separator = pending.ids.length > 0 ? 1 : 0;
    const wouldBe = EVENTS_FRAME_OVERHEAD_BYTES + pending.bytes + separator + bytes;
    if (
      pending.ids.length >= options.maxEventsPerFrame ||
      (pending.ids.length > 0 && wouldBe > options.maxMessageBytes)
    ) {
      flush();
    }
    pending.bytes += (pending.ids.length > 0 ? 1 : 0) + bytes;
    pending.ids.push(event.id);
    pending.texts.push(text);
  }
  flush();
  return messages;
}
