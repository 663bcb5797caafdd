/**
 * A targeted delivery: the messages one connection still needs after its `@connections` calls
 * failed, re-enqueued on the fan-out queue so that retrying it never re-sends anybody else's
 * deliveries. The fan-out handler tells it from an EventBridge event by `kind`.
 */
import * as z from 'zod/mini';
import { SQS_MAX_MESSAGE_BYTES } from './limits.js';

export const TARGETED_DELIVERY_KIND = 'outbox-relay.targeted-delivery';

export const plannedMessageSchema = z.object({
  kind: z.enum(['event', 'events', 'refresh']),
  body: z.string().check(z.minLength(1)),
  bytes: z.number().check(z.int(), z.nonnegative()),
  eventIds: z.array(z.string()),
  refreshedEventIds: z.array(z.string()),
});

export const targetedDeliverySchema = z.object({
  kind: z.literal(TARGETED_DELIVERY_KIND),
  connectionId: z.string().check(z.minLength(1)),
  /** Attempts already made for these messages (the first fan-out counts as 1). */
  attempt: z.number().check(z.int(), z.positive()),
  messages: z.array(plannedMessageSchema).check(z.minLength(1)),
  /** The events the messages carry, for the audit record of the retry. */
  events: z.array(z.object({ id: z.string(), tenantId: z.string(), channel: z.string() })),
});
export type TargetedDelivery = z.infer<typeof targetedDeliverySchema>;
export type TargetedMessage = z.infer<typeof plannedMessageSchema>;

// Room for the JSON around the bodies (escaping can grow a body) within SQS's message size.
const TARGETED_DELIVERY_BUDGET_BYTES = Math.floor(SQS_MAX_MESSAGE_BYTES * 0.4);

/**
 * Split one connection's remaining messages into targeted deliveries that fit an SQS message.
 * Messages keep their order inside each delivery; across deliveries order is not guaranteed
 * (clients re-order and de-duplicate by `position` and `id`).
 */
export function toTargetedDeliveries(
  connectionId: string,
  attempt: number,
  messages: readonly TargetedMessage[],
  events: ReadonlyMap<string, { id: string; tenantId: string; channel: string }>,
): TargetedDelivery[] {
  const deliveries: TargetedDelivery[] = [];
  let chunk: TargetedMessage[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (chunk.length === 0) return;
    const ids = new Set(chunk.flatMap((m) => [...m.eventIds, ...m.refreshedEventIds]));
    deliveries.push({
      kind: TARGETED_DELIVERY_KIND,
      connectionId,
      attempt,
      messages: chunk,
      events: [...ids].flatMap((id) => {
        const event = events.get(id);
        return event ? [event] : [];
      }),
    });
    chunk = [];
    bytes = 0;
  };
  for (const message of messages) {
    if (chunk.length > 0 && bytes + message.bytes > TARGETED_DELIVERY_BUDGET_BYTES) flush();
    chunk.push(message);
    bytes += message.bytes;
  }
  flush();
  return deliveries;
}
