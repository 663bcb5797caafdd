/**
 * Quarantine: where records that can never become (or stay) events go, with the reason, so
 * nothing is silently dropped and the records after them keep flowing. Pure module: reason codes,
 * the stored item's schema and its keys. `src/aws/quarantineRepository.ts` reads and writes it.
 *
 * Keys are derived from stable facts about the record (its time and id), so quarantining the same
 * record again on a retry overwrites the entry instead of adding a second one:
 * `pk = Q#<YYYY-MM-DD>` (one partition per day of the record's time), `sk = <time>#<source>#<recordId>`.
 * The sort key is the entry's id for `get`/`delete`; its first ten characters name the day.
 */
import * as z from 'zod/mini';
import { itemSizeBytes, truncateUtf8, utf8Bytes } from './itemSize.js';
import { DYNAMODB_MAX_ITEM_BYTES } from './limits.js';

export const quarantineReasonSchema = z.enum([
  /** The outbox row does not match the contract (the zod issues are in `details.issues`). */
  'INVALID_ROW',
  /** No tenant: the event could not be routed to anyone. */
  'MISSING_TENANT',
  /** `data` arrived as a string that is not a JSON object. */
  'BAD_JSON',
  /** The envelope is larger than the bus's entry limit. */
  'ENVELOPE_TOO_LARGE',
  /** EventBridge refused the entry with a non-retryable error code (in `details.errorCode`). */
  'PUT_EVENTS_REJECTED',
  /** The stream record cannot be mapped (no image, unknown table, unreadable attributes). */
  'UNMAPPED_RECORD',
  /** A message on a bus target queue whose body is not a valid event envelope (audit consumer). */
  'INVALID_EVENT',
  /**
   * A tenant id, channel or event id breaks the name rules (docs/names.md); `details.field`,
   * `details.refusal` say which and why.
   */
  'INVALID_NAME',
  /** The tenant already used this event id for another event (another channel or type): not merged. */
  'DUPLICATE_EVENT_ID',
]);
export type QuarantineReason = z.infer<typeof quarantineReasonSchema>;

/** Which component quarantined the record. */
export const quarantineSourceSchema = z.enum(['publisher', 'audit', 'webhookDispatcher']);
export type QuarantineSource = z.infer<typeof quarantineSourceSchema>;

/** What a caller hands to the quarantine. */
export interface QuarantineEntryInput {
  readonly reason: QuarantineReason;
  /** One sentence for an operator. */
  readonly message: string;
  readonly source: QuarantineSource;
  /** Stable id of the record (stream `eventID`, SQS `messageId`). */
  readonly recordId: string;
  /** Stable time of the record (stream ApproximateCreationDateTime, SQS SentTimestamp), ISO-8601. */
  readonly recordTime: string;
  /** The full original record (stream record, SQS message), as received. */
  readonly record: unknown;
  /** Where it came from: the table name, or the queue ARN. */
  readonly origin?: string;
  /** The event id, when one could be read. */
  readonly eventId?: string;
  readonly tenantId?: string;
  /** Machine-readable details: zod issues, the PutEvents error code, sizes. */
  readonly details?: Record<string, unknown>;
}

export const quarantineItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  reason: quarantineReasonSchema,
  message: z.string(),
  source: quarantineSourceSchema,
  recordId: z.string(),
  recordTime: z.string(),
  /** The original record as JSON text (truncated past `QUARANTINE_MAX_RECORD_BYTES`; see `recordTruncated`). */
  record: z.string(),
  recordTruncated: z.boolean(),
  /**
   * When `record` is truncated: where the whole record still is (for the publisher, the source
   * table and the row's keys: the outbox row stays until its TTL).
   */
  recordRef: z.optional(z.string()),
  origin: z.optional(z.string()),
  eventId: z.optional(z.string()),
  tenantId: z.optional(z.string()),
  details: z.optional(z.record(z.string(), z.unknown())),
  quarantinedAt: z.string(),
  expiresAt: z.number().check(z.int(), z.positive()),
});
export type QuarantineItem = z.infer<typeof quarantineItemSchema>;

/**
 * Keep the stored item well under DynamoDB's 400 KB item limit (counted in UTF-8 bytes: a record
 * of multi-byte text is up to 3 times its length); a stream record with two images can exceed it.
 */
export const QUARANTINE_MAX_RECORD_BYTES = 300 * 1024;
/** The whole item stays under this (the record's cap leaves room for the other attributes). */
export const QUARANTINE_MAX_ITEM_BYTES = DYNAMODB_MAX_ITEM_BYTES - 10 * 1024;
/** Operator text and details are capped too: a reason can quote the input. */
const QUARANTINE_MAX_MESSAGE_BYTES = 4 * 1024;

/** Quarantined entries expire after this long unless an operator deletes them first. */
export const DEFAULT_QUARANTINE_RETENTION_DAYS = 30;

export function quarantineDayPk(isoTime: string): string {
  return `Q#${isoTime.slice(0, 10)}`;
}

/** The entry's id (its sort key). */
export function quarantineSortKey(
  input: Pick<QuarantineEntryInput, 'recordTime' | 'source' | 'recordId'>,
): string {
  return `${input.recordTime}#${input.source}#${input.recordId}`;
}

/** The partition key of an entry id (the id starts with the record's ISO time). */
export function quarantinePkOfId(id: string): string {
  return quarantineDayPk(id);
}

function safeIsoTime(time: string): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

function serialise(record: unknown): string {
  try {
    return JSON.stringify(record) ?? 'undefined';
  } catch (error) {
    return JSON.stringify({ unserialisable: String(error) });
  }
}

export function toQuarantineItem(
  input: QuarantineEntryInput,
  now: Date,
  retentionDays = DEFAULT_QUARANTINE_RETENTION_DAYS,
): QuarantineItem {
  const recordTime = safeIsoTime(input.recordTime);
  const text = serialise(input.record);
  const truncated = utf8Bytes(text) > QUARANTINE_MAX_RECORD_BYTES;
  const ref = truncated ? recordReference(input) : undefined;
  const item: QuarantineItem = {
    pk: quarantineDayPk(recordTime),
    sk: quarantineSortKey({ ...input, recordTime }),
    reason: input.reason,
    message: truncateUtf8(input.message, QUARANTINE_MAX_MESSAGE_BYTES),
    source: input.source,
    recordId: input.recordId,
    recordTime,
    record: truncated ? truncateUtf8(text, QUARANTINE_MAX_RECORD_BYTES) : text,
    recordTruncated: truncated,
    ...(ref !== undefined ? { recordRef: ref } : {}),
    ...(input.origin !== undefined ? { origin: input.origin } : {}),
    ...(input.eventId !== undefined ? { eventId: input.eventId } : {}),
    ...(input.tenantId !== undefined ? { tenantId: input.tenantId } : {}),
    // Round-trip through JSON: details (zod issues, errors) may hold values DynamoDB cannot store.
    ...(input.details !== undefined ? { details: JSON.parse(serialise(input.details)) } : {}),
    quarantinedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + retentionDays * 24 * 60 * 60,
  };
  // Details (zod issues, error texts) are evidence, not the record: dropped before the item could fail.
  if (item.details !== undefined && itemSizeBytes(item) > QUARANTINE_MAX_ITEM_BYTES) {
    item.details = { detailsDropped: `over ${QUARANTINE_MAX_ITEM_BYTES} bytes with the record` };
  }
  return item;
}

/** Where the whole record can be read again: the stream record's source and keys, when it has them. */
function recordReference(input: QuarantineEntryInput): string | undefined {
  const record = input.record;
  if (typeof record !== 'object' || record === null) return undefined;
  const dynamodb: unknown = Reflect.get(record, 'dynamodb');
  const keys = typeof dynamodb === 'object' && dynamodb !== null ? Reflect.get(dynamodb, 'Keys') : undefined;
  if (keys === undefined) return undefined;
  return truncateUtf8(serialise({ origin: input.origin, keys }), QUARANTINE_MAX_MESSAGE_BYTES);
}
