/**
 * Tracked tables: existing application tables whose streams feed the publisher beside the outbox.
 * The mapping schema is `trackedTables.ts` (validated by the stack at synth, handed to the
 * publisher as JSON in `TRACKED_TABLES`); this module parses that variable at cold start and turns
 * one change of a tracked table into an event:
 *
 * - INSERT / MODIFY / REMOVE → `<typePrefix>.created` / `.updated` / `.deleted`, unless
 *   `eventTypes` overrides it (`null` = that change is not published);
 * - `tenantId` from `tenantAttribute` (missing → quarantine `MISSING_TENANT`); `channel` fixed or
 *   from `channelAttribute` (both must be valid names, docs/names.md, or the publisher quarantines
 *   the record `INVALID_NAME`); `resourceId` from `resourceIdAttribute`, else the item's key values
 *   joined by the key codec in attribute-name order (the item's identity);
 * - `time` = the stream record's ApproximateCreationDateTime; `data` = the new image (the old
 *   image, or the keys, for REMOVE);
 * - the event id is derived from the table name and the stream record's id, so a redelivered
 *   record yields the same event (idempotent downstream).
 *
 * Pure module.
 */
import { createHash } from 'node:crypto';
import type { ChangeRecord } from './changeRecord.js';
import { ENVELOPE_VERSION, type Envelope, normaliseTime, positionOf } from './envelope.js';
import { encodeKey } from './keyCodec.js';
import {
  TRACKED_TABLES_ENV,
  type TrackedTableMapping,
  trackedEventType,
  trackedTablesSchema,
} from './trackedTables.js';

export type { TrackedTableMapping } from './trackedTables.js';

/** Mappings by table name (the table name is read from each record's `eventSourceARN`). */
export type TrackedTablesConfig = Readonly<Record<string, TrackedTableMapping>>;

/** `TRACKED_TABLES` is not valid JSON or does not match the mapping schema; raised at cold start. */
export class InvalidTrackedTablesConfigError extends Error {
  override readonly name = 'InvalidTrackedTablesConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`${TRACKED_TABLES_ENV} is invalid: ${problems.join('; ')}`);
  }
}

/** Parse the `TRACKED_TABLES` value (a JSON array of mappings); undefined or empty means none. */
export function parseTrackedTablesConfig(raw: string | undefined): TrackedTablesConfig {
  if (raw === undefined || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new InvalidTrackedTablesConfigError([
      `not JSON (${error instanceof Error ? error.message : String(error)})`,
    ]);
  }
  const parsed = trackedTablesSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidTrackedTablesConfigError(
      parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const byTable: Record<string, TrackedTableMapping> = {};
  for (const mapping of parsed.data) {
    if (byTable[mapping.tableName] !== undefined) {
      throw new InvalidTrackedTablesConfigError([`table ${mapping.tableName} is mapped twice`]);
    }
    byTable[mapping.tableName] = mapping;
  }
  return byTable;
}

/** Deterministic event id: the same stream record always yields the same id. */
export function trackedEventId(tableName: string, recordId: string): string {
  return `tt_${createHash('sha256').update(`${tableName}\n${recordId}`).digest('base64url').slice(0, 32)}`;
}

export type TrackedMappingResult =
  | { readonly kind: 'event'; readonly envelope: Envelope; readonly partitionKey: string | undefined }
  | { readonly kind: 'ignore'; readonly why: string }
  | {
      readonly kind: 'quarantine';
      readonly reason: 'MISSING_TENANT' | 'UNMAPPED_RECORD' | 'INVALID_ROW';
      readonly message: string;
      readonly details?: Record<string, unknown>;
    };

function nonEmptyString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** The item's identity: its key values joined by the key codec (injective), in attribute-name order. */
function itemKeyOf(keys: Readonly<Record<string, unknown>>): string | undefined {
  const parts = Object.keys(keys)
    .sort()
    .map((name) => nonEmptyString(keys[name]));
  const [first, ...rest] = parts;
  if (first === undefined || !rest.every((part) => part !== undefined)) return undefined;
  return encodeKey([first, ...rest.filter((part) => part !== undefined)]);
}

/** Turn one change of a tracked table into an event, a deliberate skip, or a quarantine reason. */
export function mapTrackedRecord(
  record: ChangeRecord,
  mapping: TrackedTableMapping,
  now: Date,
): TrackedMappingResult {
  const type = trackedEventType(mapping, record.eventName);
  if (type === null) return { kind: 'ignore', why: `the mapping does not publish ${record.eventName}` };

  const image = record.eventName === 'REMOVE' ? record.oldImage : record.newImage;
  if (image === undefined && record.eventName !== 'REMOVE') {
    return {
      kind: 'quarantine',
      reason: 'UNMAPPED_RECORD',
      message: `The ${record.eventName} record has no new image; the table's stream must include new images`,
    };
  }
  // A REMOVE on a NEW_IMAGE stream carries only the keys; they may still hold the tenant.
  const attributes: Record<string, unknown> = { ...record.keys, ...(image ?? {}) };

  const tenantId = nonEmptyString(attributes[mapping.tenantAttribute]);
  if (tenantId === undefined) {
    return {
      kind: 'quarantine',
      reason: 'MISSING_TENANT',
      message: `Attribute "${mapping.tenantAttribute}" (the tenant) is missing or empty`,
    };
  }
  const channel = mapping.channel ?? nonEmptyString(attributes[mapping.channelAttribute ?? '']);
  if (channel === undefined) {
    return {
      kind: 'quarantine',
      reason: 'INVALID_ROW',
      message: `Attribute "${mapping.channelAttribute}" (the channel) is missing or empty`,
    };
  }
  const resourceId =
    (mapping.resourceIdAttribute !== undefined
      ? nonEmptyString(attributes[mapping.resourceIdAttribute])
      : itemKeyOf(record.keys)) ?? null;
  const time = normaliseTime(record.approximateCreationTime ?? now.toISOString());
  const id = trackedEventId(record.tableName, record.recordId);
  return {
    kind: 'event',
    envelope: {
      version: ENVELOPE_VERSION,
      id,
      source: `table/${record.tableName}`,
      tenantId,
      channel,
      type,
      resourceId,
      time,
      position: positionOf(time, id),
      data: attributes,
    },
    // The table's partition key is not in the mapping: hold back every later record of the table.
    partitionKey: undefined,
  };
}
