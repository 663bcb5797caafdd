/**
 * The outbox row: what an application writes, in its own transaction, for each event.
 * Pure module: schema, key derivation and row → envelope. No AWS imports.
 */
import * as z from 'zod/mini';
import { ENVELOPE_VERSION, type Envelope, normaliseTime, positionOf } from './envelope.js';
import { encodeKey } from './keyCodec.js';
import { channelSchema, eventIdSchema, resourceIdSchema, tenantIdSchema } from './names.js';

/** Outbox rows expire (DynamoDB TTL) after this long by default; the audit table keeps the history. */
export const DEFAULT_OUTBOX_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Tenant id, channel and event id follow the name rules of `names.ts` (docs/names.md). */
export const outboxRowInputSchema = z.object({
  eventId: eventIdSchema,
  tenantId: tenantIdSchema,
  channel: channelSchema,
  type: z.string().check(z.minLength(1), z.maxLength(256)),
  resourceId: z.optional(resourceIdSchema),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type OutboxRowInput = z.infer<typeof outboxRowInputSchema>;

/** The stored row: the input plus the table's keys and TTL attribute. */
export const outboxRowSchema = z.extend(outboxRowInputSchema, {
  pk: z.string(),
  sk: z.string(),
  expiresAt: z.number().check(z.int(), z.positive()),
});
export type OutboxRow = z.infer<typeof outboxRowSchema>;

/**
 * Keys: `pk = <tenant>`, `sk = <eventId>` (through the key codec). Event ids are unique per
 * tenant, and the key says so: the conditional put is idempotent on tenant + event id, and a
 * second event reusing a tenant's id (on another channel) fails the condition instead of becoming
 * a silent twin (the producer helper tells the two cases apart). All rows of a tenant share a
 * partition key, so DynamoDB Streams keeps them on one shard in write order (which includes each
 * channel's order) and the publisher puts them on the bus in that order.
 */
export function outboxKeys(row: Pick<OutboxRowInput, 'tenantId' | 'eventId'>): {
  pk: string;
  sk: string;
} {
  return { pk: encodeKey([row.tenantId]), sk: encodeKey([row.eventId]) };
}

export function toOutboxRow(
  input: OutboxRowInput,
  nowSeconds: number,
  ttlSeconds = DEFAULT_OUTBOX_TTL_SECONDS,
): OutboxRow {
  return { ...input, ...outboxKeys(input), expiresAt: nowSeconds + ttlSeconds };
}

export function outboxRowToEnvelope(row: OutboxRowInput, source = 'outbox'): Envelope {
  const time = normaliseTime(row.occurredAt);
  return {
    version: ENVELOPE_VERSION,
    id: row.eventId,
    source,
    tenantId: row.tenantId,
    channel: row.channel,
    type: row.type,
    resourceId: row.resourceId ?? null,
    time,
    position: positionOf(time, row.eventId),
    data: row.data,
  };
}
