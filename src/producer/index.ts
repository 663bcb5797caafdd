/**
 * The producer helper applications import (`outbox-relay/producer`): write outbox rows atomically
 * with business writes, or append them alone. Every write is validated against the outbox row
 * contract and is idempotent on `eventId` (a conditional put: appending the same event twice is
 * neither an error nor a second event).
 *
 * ```ts
 * import { buildOutboxPut, newOutboxEvent } from 'outbox-relay/producer';
 * const event = newOutboxEvent({ tenantId: 't1', channel: 'orders', type: 'order.created', resourceId: order.id, data: { total: 42 } });
 * await documentClient.send(new TransactWriteCommand({ TransactItems: [
 *   { Put: { TableName: 'Orders', Item: order } },
 *   buildOutboxPut(event, { tableName: process.env.OUTBOX_TABLE! }),
 * ] }));
 * ```
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { isAwsError } from '../aws/sdk/awsErrors.js';
import {
  type DocumentClientLike,
  type DocumentSender,
  documentSender,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '../aws/sdk/dynamo.js';

// Monotonic within a millisecond, so events created in the same millisecond keep their creation order by position.
const ulid = monotonicFactory();

import { entrySizeBytes, envelopeToBusEntry } from '../core/busEntry.js';
import { itemSizeBytes } from '../core/itemSize.js';
import { DYNAMODB_MAX_ITEM_BYTES, putEventsMaxRequestBytes } from '../core/limits.js';
import { nameRefusalOfIssues } from '../core/names.js';
import {
  DEFAULT_OUTBOX_TTL_SECONDS,
  type OutboxRow,
  type OutboxRowInput,
  outboxRowInputSchema,
  outboxRowToEnvelope,
  toOutboxRow,
} from '../core/outboxRow.js';
import {
  DuplicateEventIdError,
  InvalidOutboxNameError,
  InvalidOutboxRowError,
  OutboxEventTooLargeError,
  OutboxRowTooLargeError,
  TooManyTransactionItemsError,
} from './errors.js';

export type { NameKind, NameRefusal } from '../core/names.js';
export { NAME_MAX_BYTES } from '../core/names.js';
export type { OutboxRowInput } from '../core/outboxRow.js';
export {
  DuplicateEventIdError,
  InvalidOutboxNameError,
  InvalidOutboxRowError,
  OutboxEventTooLargeError,
  OutboxRowTooLargeError,
  TooManyTransactionItemsError,
} from './errors.js';

/** One element of `TransactWriteCommand`'s `TransactItems` (lib-dynamodb shape: native values). */
export type TransactWriteItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface OutboxWriteOptions {
  /** The outbox table's name (`OUTBOX_TABLE` in the stack's outputs / the local runtime's env). */
  readonly tableName: string;
  /** Seconds until DynamoDB's TTL removes the row (the audit table keeps the history). @default 7 days */
  readonly ttlSeconds?: number;
  /** Clock for the TTL attribute (tests). @default new Date() */
  readonly now?: Date;
}

/** DynamoDB transactions hold at most 100 items. */
export const MAX_TRANSACTION_ITEMS = 100;

/** The condition that makes an append idempotent: the row for this tenant+eventId must not exist yet. */
export const OUTBOX_PUT_CONDITION = 'attribute_not_exists(pk)';

/**
 * Fill in `eventId` (a ULID: unique and time-sortable) and `occurredAt` (now) when absent.
 * Keep the returned object if the write may be retried: re-sending the same `eventId` is what
 * makes the retry idempotent.
 */
export function newOutboxEvent(
  input: Omit<OutboxRowInput, 'eventId' | 'occurredAt'> & { eventId?: string; occurredAt?: string },
  now: Date = new Date(),
): OutboxRowInput {
  return {
    ...input,
    eventId: input.eventId ?? ulid(now.getTime()),
    occurredAt: input.occurredAt ?? now.toISOString(),
  };
}

/**
 * Validate an outbox row input and build the stored row; throws `InvalidOutboxRowError`,
 * `OutboxEventTooLargeError` (the bus limit) or `OutboxRowTooLargeError` (DynamoDB's item limit).
 */
export function validateOutboxRow(
  input: unknown,
  options: Omit<OutboxWriteOptions, 'tableName'> = {},
): OutboxRow {
  const parsed = outboxRowInputSchema.safeParse(input);
  if (!parsed.success) {
    const name = nameRefusalOfIssues(parsed.error.issues);
    if (name) throw new InvalidOutboxNameError(parsed.error.issues, name.path, name.kind, name.refusal);
    throw new InvalidOutboxRowError(parsed.error.issues);
  }
  const size = entrySizeBytes(envelopeToBusEntry(outboxRowToEnvelope(parsed.data)));
  // The producer runs in the application's process: the edge that reads the bus limit's override.
  const limit = putEventsMaxRequestBytes(typeof process === 'undefined' ? {} : process.env);
  if (size > limit) {
    throw new OutboxEventTooLargeError(parsed.data.eventId, size, limit);
  }
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const row = toOutboxRow(parsed.data, nowSeconds, options.ttlSeconds ?? DEFAULT_OUTBOX_TTL_SECONDS);
  // Drop absent optional attributes: the caller's client may not set `removeUndefinedValues`.
  if (row.resourceId === undefined) delete row.resourceId;
  const itemBytes = itemSizeBytes(row);
  if (itemBytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new OutboxRowTooLargeError(parsed.data.eventId, itemBytes, DYNAMODB_MAX_ITEM_BYTES);
  }
  return row;
}

/**
 * The outbox `Put` for the application's own `TransactWriteItems`, so the event is written
 * atomically with the business change. The condition makes a repeated event cancel the
 * transaction instead of writing a second event (see `writeWithOutbox`, which treats that as a
 * repeat rather than an error).
 */
export function buildOutboxPut(
  input: OutboxRowInput,
  options: OutboxWriteOptions,
): TransactWriteItem & { Put: { TableName: string; Item: OutboxRow; ConditionExpression: string } } {
  const row = validateOutboxRow(input, options);
  return { Put: { TableName: options.tableName, Item: row, ConditionExpression: OUTBOX_PUT_CONDITION } };
}

/**
 * After a failed outbox condition: the stored row with the same tenant+eventId must be the same
 * event (same channel and type) for the write to count as a repeat; otherwise the id was reused.
 * (The row may also have expired meanwhile: then there is nothing to compare and it is a repeat.)
 */
async function assertSameEvent(client: DocumentSender, row: OutboxRow, tableName: string): Promise<void> {
  const stored = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk: row.pk, sk: row.sk }, ConsistentRead: true }),
  );
  const item = stored.Item;
  if (item && (item.channel !== row.channel || item.type !== row.type)) {
    throw new DuplicateEventIdError(
      row.tenantId,
      row.eventId,
      { channel: item.channel, type: item.type },
      { channel: row.channel, type: row.type },
    );
  }
}

/**
 * Append one event alone (no business write). `appended: false` means this event (same tenant,
 * id, channel and type) was already in the outbox: the call is a repeat, not an error. The same id
 * for another event of the tenant throws `DuplicateEventIdError`.
 */
export async function appendToOutbox(
  clientLike: DocumentClientLike,
  input: OutboxRowInput,
  options: OutboxWriteOptions,
): Promise<{ appended: boolean; eventId: string }> {
  const client = documentSender(clientLike);
  const { Put } = buildOutboxPut(input, options);
  try {
    await client.send(new PutCommand(Put));
    return { appended: true, eventId: input.eventId };
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
  }
  await assertSameEvent(client, Put.Item, options.tableName);
  return { appended: false, eventId: input.eventId };
}

export interface WriteWithOutboxResult {
  /** False when the transaction was cancelled only because these events were already in the outbox. */
  readonly written: boolean;
  readonly eventIds: readonly string[];
  /** The events found already appended (empty when `written`). */
  readonly alreadyAppended: readonly string[];
}

/**
 * Run the business writes and the outbox rows in one `TransactWriteItems`. A cancellation caused
 * only by outbox conditions means this unit of work was already committed (a retried request):
 * it returns `written: false` instead of throwing. Any other cancellation is rethrown.
 */
export async function writeWithOutbox(
  clientLike: DocumentClientLike,
  work: { readonly items: readonly TransactWriteItem[]; readonly events: readonly OutboxRowInput[] },
  options: OutboxWriteOptions,
): Promise<WriteWithOutboxResult> {
  const outboxPuts = work.events.map((event) => buildOutboxPut(event, options));
  const transactItems = [...work.items, ...outboxPuts];
  if (transactItems.length > MAX_TRANSACTION_ITEMS)
    throw new TooManyTransactionItemsError(transactItems.length);
  const eventIds = work.events.map((event) => event.eventId);
  const client = documentSender(clientLike);
  try {
    await client.send(new TransactWriteCommand({ TransactItems: transactItems }));
    return { written: true, eventIds, alreadyAppended: [] };
  } catch (error) {
    const alreadyAppended = outboxOnlyCancellation(error, work.items.length, eventIds);
    if (!alreadyAppended) throw error;
    for (const put of outboxPuts) {
      if (alreadyAppended.includes(put.Put.Item.eventId))
        await assertSameEvent(client, put.Put.Item, options.tableName);
    }
    return { written: false, eventIds, alreadyAppended };
  }
}

/** The event ids whose outbox condition failed, when nothing else cancelled the transaction; else undefined. */
function outboxOnlyCancellation(
  error: unknown,
  businessCount: number,
  eventIds: readonly string[],
): string[] | undefined {
  if (!isAwsError(error, 'TransactionCanceledException') || !error.CancellationReasons) return undefined;
  const duplicates: string[] = [];
  for (const [index, reason] of error.CancellationReasons.entries()) {
    const code = reason.Code ?? 'None';
    if (code === 'None') continue;
    const eventIndex = index - businessCount;
    const eventId = eventIds[eventIndex];
    if (eventIndex < 0 || eventId === undefined || code !== 'ConditionalCheckFailed') return undefined;
    duplicates.push(eventId);
  }
  return duplicates.length > 0 ? duplicates : undefined;
}

export {
  emitSyntheticEvent,
  type SyntheticEventInput,
  type SyntheticEventOptions,
  type SyntheticEventResult,
} from './synthetic.js';
