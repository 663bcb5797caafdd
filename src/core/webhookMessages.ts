/**
 * Messages on the webhook queues: one delivery message per (event, endpoint) on the delivery
 * queue, and the same message plus the reason on the webhook DLQ. Pure schemas.
 */
import * as z from 'zod/mini';
import { envelopeSchema } from './envelope.js';

export const deliveryMessageSchema = z.object({
  eventId: z.string().check(z.minLength(1)),
  endpointId: z.string().check(z.minLength(1)),
  tenantId: z.string().check(z.minLength(1)),
  /**
   * The attempt number of this message's FIRST receive. SQS cannot rewrite a body, and retries
   * reuse the same message (ChangeMessageVisibility), so the attempt of a receive is
   * `attempt + ApproximateReceiveCount - 1`. Redrive sends a new message with 1, which resets it.
   */
  attempt: z.number().check(z.int(), z.gte(1)),
  envelope: envelopeSchema,
  /** A rate-limit slot this message was deferred to (it sends then without taking another). */
  reservedAt: z.optional(z.iso.datetime({ offset: true })),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

export const DEAD_LETTER_REASONS = [
  'attempts_exhausted',
  'endpoint_gone',
  'endpoint_disabled',
  'endpoint_removed',
  'url_refused',
] as const;
export type DeadLetterReasonCode = (typeof DEAD_LETTER_REASONS)[number];

export const deadLetterSchema = z.extend(deliveryMessageSchema, {
  deadLetter: z.object({
    code: z.enum(DEAD_LETTER_REASONS),
    reason: z.string(),
    attempts: z.number().check(z.int(), z.gte(0)),
    lastStatus: z.optional(z.number().check(z.int())),
    lastError: z.optional(z.string()),
    at: z.iso.datetime({ offset: true }),
  }),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** The attempt number of one receive of a delivery message. */
export function attemptOfReceive(
  message: Pick<DeliveryMessage, 'attempt'>,
  approximateReceiveCount: number,
): number {
  return message.attempt + Math.max(approximateReceiveCount, 1) - 1;
}
