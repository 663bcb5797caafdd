/**
 * The event envelope: what goes on the bus (EventBridge `Detail`), in webhook bodies and in
 * WebSocket frames. One versioned schema; the types derive from it.
 */
import * as z from 'zod/mini';
import { channelSchema, eventIdSchema, resourceIdSchema, tenantIdSchema } from './names.js';

export const ENVELOPE_VERSION = 1 as const;

/** EventBridge `Source` of every event the publisher puts on the bus. */
export const EVENT_SOURCE = 'outbox-relay';

const isoTime = z.iso.datetime({ offset: true });

export const envelopeSchema = z.object({
  /** Schema version of this envelope. */
  version: z.literal(ENVELOPE_VERSION),
  /** The event id (the outbox row's `eventId`): the idempotency and de-duplication key. */
  id: eventIdSchema,
  /** Where the event came from: `outbox` or `table/<tableName>` for tracked tables. */
  source: z.string().check(z.minLength(1), z.maxLength(256)),
  /** Tenant id, channel and id follow the name rules of `names.ts` (docs/names.md). */
  tenantId: tenantIdSchema,
  channel: channelSchema,
  type: z.string().check(z.minLength(1), z.maxLength(256)),
  resourceId: z.nullable(resourceIdSchema),
  /** When the change happened (the row's `occurredAt`), normalised to UTC ISO-8601 with milliseconds. */
  time: isoTime,
  /**
   * The event's place in its tenant+channel order: `<time>#<id>`. Compare as strings. Resume
   * replays in this order; receivers sort and de-duplicate with it and `id`.
   */
  position: z.string().check(z.minLength(1)),
  /**
   * The event's number in its tenant+channel sequence (1, 2, 3, … without gaps), assigned once by
   * the publisher. Optional so events from before sequences still parse; every new event has it.
   */
  seq: z.optional(z.number().check(z.int(), z.gte(1), z.lte(Number.MAX_SAFE_INTEGER))),
  /** Which sequence history `seq` belongs to: a channel whose counter is lost starts a new epoch at 1. */
  epoch: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  data: z.record(z.string(), z.unknown()),
});

export type Envelope<TData extends Record<string, unknown> = Record<string, unknown>> = Omit<
  z.infer<typeof envelopeSchema>,
  'data'
> & { data: TData };

/** The envelope without `data`: what a webhook endpoint configured with content `summary` receives. */
export type EnvelopeSummary = Omit<Envelope, 'data'>;

/** Normalise an ISO-8601 time to `YYYY-MM-DDTHH:mm:ss.sssZ` so positions sort as strings. */
export function normaliseTime(time: string): string {
  return new Date(time).toISOString();
}

export function positionOf(time: string, id: string): string {
  return `${normaliseTime(time)}#${id}`;
}

export function toSummary(envelope: Envelope): EnvelopeSummary {
  const { data: _data, ...summary } = envelope;
  return summary;
}

export function parseEnvelope(input: unknown): Envelope {
  return envelopeSchema.parse(input);
}
