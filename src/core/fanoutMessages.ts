/**
 * What a fan-out queue message is: an EventBridge event delivered by the bus rule (its `detail` is
 * the envelope), a targeted delivery (a per-connection retry), a shard chunk of a wide fan-out,
 * or poison (with the reason).
 */
import * as z from 'zod/mini';
import { type Envelope, envelopeSchema } from './envelope.js';
import { FANOUT_CHUNK_KIND, type FanoutChunk, fanoutChunkSchema } from './fanoutChunk.js';
import { TARGETED_DELIVERY_KIND, type TargetedDelivery, targetedDeliverySchema } from './targetedDelivery.js';

export type PoisonReason =
  | 'invalid_json'
  | 'not_an_event'
  | 'invalid_envelope'
  | 'invalid_targeted_delivery'
  | 'invalid_fanout_chunk';

export type FanoutMessage =
  | { readonly kind: 'event'; readonly envelope: Envelope }
  | { readonly kind: 'targeted'; readonly delivery: TargetedDelivery }
  | { readonly kind: 'chunk'; readonly chunk: FanoutChunk }
  | { readonly kind: 'poison'; readonly reason: PoisonReason; readonly detail: string };

const eventBridgeEventSchema = z.looseObject({
  'detail-type': z.string(),
  source: z.string(),
  detail: z.unknown(),
});

export function parseFanoutMessage(body: string): FanoutMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'poison', reason: 'invalid_json', detail: 'The message body is not JSON' };
  }
  if (typeof json === 'object' && json !== null && 'kind' in json && json.kind === TARGETED_DELIVERY_KIND) {
    const delivery = targetedDeliverySchema.safeParse(json);
    return delivery.success
      ? { kind: 'targeted', delivery: delivery.data }
      : { kind: 'poison', reason: 'invalid_targeted_delivery', detail: summarize(delivery.error.issues) };
  }
  if (typeof json === 'object' && json !== null && 'kind' in json && json.kind === FANOUT_CHUNK_KIND) {
    const chunk = fanoutChunkSchema.safeParse(json);
    return chunk.success
      ? { kind: 'chunk', chunk: chunk.data }
      : { kind: 'poison', reason: 'invalid_fanout_chunk', detail: summarize(chunk.error.issues) };
  }
  const event = eventBridgeEventSchema.safeParse(json);
  if (!event.success) {
    return {
      kind: 'poison',
      reason: 'not_an_event',
      detail: 'Neither an EventBridge event nor a targeted delivery',
    };
  }
  const envelope = envelopeSchema.safeParse(event.data.detail);
  return envelope.success
    ? { kind: 'event', envelope: envelope.data }
    : { kind: 'poison', reason: 'invalid_envelope', detail: summarize(envelope.error.issues) };
}

function summarize(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
