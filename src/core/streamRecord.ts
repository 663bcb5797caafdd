/**
 * One stream record → one envelope, a deliberate skip, or a quarantine reason. Pure module.
 *
 * Records of tables named in the tracked-tables config are mapped by `trackedTable.ts`; every
 * other record is read as an outbox row. Outbox REMOVE records (TTL expiry, clean-up) and MODIFY
 * records (the publisher writing the sequence number back, or a row overwritten) are ignored: the
 * event was published, and numbered, when the row was inserted.
 */
import type * as z from 'zod';
import { type BusEntry, entrySizeBytes, envelopeToBusEntry } from './busEntry.js';
import type { ChangeRecord } from './changeRecord.js';
import { type Envelope, envelopeSchema } from './envelope.js';
import { PUT_EVENTS_MAX_REQUEST_BYTES } from './limits.js';
import { describeNameRefusal, nameRefusalOfIssues } from './names.js';
import { outboxRowInputSchema, outboxRowToEnvelope } from './outboxRow.js';
import type { QuarantineReason } from './quarantine.js';
import { mapTrackedRecord, type TrackedTablesConfig } from './trackedTable.js';

/**
 * Every classification carries the record's partition key value (undefined when unknown), so a
 * failure can hold back the later records of the same key (see `publish.ts`).
 */
export type RecordClassification =
  | {
      readonly kind: 'event';
      readonly envelope: Envelope;
      readonly entry: BusEntry;
      readonly partitionKey: string | undefined;
    }
  | { readonly kind: 'ignore'; readonly why: string; readonly partitionKey: string | undefined }
  | {
      readonly kind: 'quarantine';
      readonly reason: QuarantineReason;
      readonly message: string;
      readonly details?: Record<string, unknown>;
      readonly eventId?: string;
      readonly tenantId?: string;
      readonly partitionKey: string | undefined;
    };

export interface ClassifyOptions {
  readonly trackedTables: TrackedTablesConfig;
  readonly eventBusName?: string;
  /** The bus's request size limit in force (`putEventsMaxRequestBytes`). @default PUT_EVENTS_MAX_REQUEST_BYTES */
  readonly maxEntryBytes?: number;
  readonly now: Date;
}

function stringAttribute(
  image: Readonly<Record<string, unknown>> | undefined,
  name: string,
): string | undefined {
  const value = image?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function issuesOf(issues: readonly { path: readonly PropertyKey[]; message: string; code: string }[]) {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
  }));
}

/**
 * A record whose tenant id, channel or event id breaks the name rules (docs/names.md) gets its own
 * reason, `INVALID_NAME`, naming the field and the rule; undefined when no name was at fault.
 */
function invalidName(
  issues: readonly z.core.$ZodIssue[],
  ids: { eventId?: string; tenantId?: string },
  partitionKey: string | undefined,
): RecordClassification | undefined {
  const name = nameRefusalOfIssues(issues);
  if (name === undefined) return undefined;
  return {
    kind: 'quarantine',
    reason: 'INVALID_NAME',
    message: `${describeNameRefusal(name.kind, name.refusal)} (field ${name.path})`,
    details: { field: name.path, nameKind: name.kind, refusal: name.refusal, issues: issuesOf(issues) },
    ...ids,
    partitionKey,
  };
}

/** Finish an envelope: validate it and size its bus entry. */
function toEvent(
  envelope: Envelope,
  partitionKey: string | undefined,
  options: ClassifyOptions,
): RecordClassification {
  const valid = envelopeSchema.safeParse(envelope);
  if (!valid.success) {
    const refused = invalidName(
      valid.error.issues,
      { eventId: envelope.id, tenantId: envelope.tenantId },
      partitionKey,
    );
    if (refused) return refused;
    return {
      kind: 'quarantine',
      reason: 'INVALID_ROW',
      message: 'The record does not make a valid event envelope',
      details: { issues: issuesOf(valid.error.issues) },
      eventId: envelope.id,
      tenantId: envelope.tenantId,
      partitionKey,
    };
  }
  const entry = envelopeToBusEntry(envelope, options.eventBusName);
  const limit = options.maxEntryBytes ?? PUT_EVENTS_MAX_REQUEST_BYTES;
  const size = entrySizeBytes(entry);
  if (size > limit) {
    return {
      kind: 'quarantine',
      reason: 'ENVELOPE_TOO_LARGE',
      message: `The event's bus entry is ${size} bytes; the limit is ${limit}`,
      details: { sizeBytes: size, limitBytes: limit },
      eventId: envelope.id,
      tenantId: envelope.tenantId,
      partitionKey,
    };
  }
  return { kind: 'event', envelope, entry, partitionKey };
}

function classifyOutboxRecord(record: ChangeRecord, options: ClassifyOptions): RecordClassification {
  const partitionKey = typeof record.keys.pk === 'string' ? record.keys.pk : undefined;
  if (record.eventName === 'REMOVE') return { kind: 'ignore', why: 'outbox row removed', partitionKey };
  if (record.eventName === 'MODIFY') return { kind: 'ignore', why: 'outbox row modified', partitionKey };
  const image = record.newImage;
  if (image === undefined) {
    return {
      kind: 'quarantine',
      reason: 'UNMAPPED_RECORD',
      message: `The ${record.eventName} record has no new image; the outbox stream must be NEW_IMAGE or NEW_AND_OLD_IMAGES`,
      partitionKey,
    };
  }
  const eventId = stringAttribute(image, 'eventId');
  const tenantId = stringAttribute(image, 'tenantId');
  const ids = { ...(eventId ? { eventId } : {}), ...(tenantId ? { tenantId } : {}) };
  if (tenantId === undefined) {
    return {
      kind: 'quarantine',
      reason: 'MISSING_TENANT',
      message: 'The outbox row has no tenantId',
      ...ids,
      partitionKey,
    };
  }
  let data = image.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (error) {
      return {
        kind: 'quarantine',
        reason: 'BAD_JSON',
        message: `The row's data is a string that is not JSON (${error instanceof Error ? error.message : String(error)})`,
        ...ids,
        partitionKey,
      };
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return {
        kind: 'quarantine',
        reason: 'BAD_JSON',
        message: "The row's data is a JSON string that does not hold an object",
        ...ids,
        partitionKey,
      };
    }
  }
  const row = outboxRowInputSchema.safeParse({ ...image, data });
  if (!row.success) {
    const refused = invalidName(row.error.issues, ids, partitionKey);
    if (refused) return refused;
    return {
      kind: 'quarantine',
      reason: 'INVALID_ROW',
      message: `The outbox row does not match the contract: ${row.error.issues.map((i) => `${i.path.map(String).join('.') || '(row)'}: ${i.message}`).join('; ')}`,
      details: { issues: issuesOf(row.error.issues) },
      ...ids,
      partitionKey,
    };
  }
  return toEvent(outboxRowToEnvelope(row.data), partitionKey, options);
}

/** Classify one stream record; see the module comment. */
export function classifyChangeRecord(record: ChangeRecord, options: ClassifyOptions): RecordClassification {
  if (record.readError !== undefined) {
    return {
      kind: 'quarantine',
      reason: 'UNMAPPED_RECORD',
      message: `The stream record could not be read: ${record.readError}`,
      partitionKey: undefined,
    };
  }
  const mapping = options.trackedTables[record.tableName];
  if (mapping === undefined) return classifyOutboxRecord(record, options);
  const mapped = mapTrackedRecord(record, mapping, options.now);
  switch (mapped.kind) {
    case 'event':
      return toEvent(mapped.envelope, mapped.partitionKey, options);
    case 'ignore':
      return { kind: 'ignore', why: mapped.why, partitionKey: undefined };
    case 'quarantine':
      return { ...mapped, partitionKey: undefined };
  }
}
