/**
 * The outbox row: what an application writes, in its own transaction, for each event.
 * Pure module: schema, key derivation and row → envelope. No AWS imports.
 */
import * as z from 'zod';
import { ENVELOPE_VERSION, type Envelope, normaliseTime, positionOf } from './envelope.js';

/** Outbox rows expire (DynamoDB TTL) after this long by default; the audit table keeps the history. */
export const DEFAULT_OUTBOX_TTL_SECONDS = 7 * 24 * 60 * 60;

export const outboxRowInputSchema = z.object({
  eventId: z.string().min(1).max(128),
  tenantId: z.string().min(1).max(128),
  channel: z.string().min(1).max(256),
  type: z.string().min(1).max(256),
  resourceId: z.string().min(1).max(1024).optional(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type OutboxRowInput = z.infer<typeof outboxRowInputSchema>;

/** The stored row: the input plus the table's keys and TTL attribute. */
export const outboxRowSchema = outboxRowInputSchema.extend({
  pk: z.string(),
  sk: z.string(),
  expiresAt: z.number().int().positive(),
});
export type OutboxRow = z.infer<typeof outboxRowSchema>;

/**
 * Keys: all rows of one tenant+channel share a partition key, so DynamoDB Streams keeps them on
 * one shard in write order and the publisher puts them on the bus in that order. The sort key is
 * the event id, which makes the conditional put idempotent on `eventId`.
 */
export function outboxKeys(row: Pick<OutboxRowInput, 'tenantId' | 'channel' | 'eventId'>): {
  pk: string;
  sk: string;
} {
  return { pk: `${row.tenantId}#${row.channel}`, sk: row.eventId };
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
