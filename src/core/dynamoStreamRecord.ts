/**
 * A DynamoDB stream record as Lambda delivers it (JSON, AttributeValue images) → `ChangeRecord`.
 * Pure and total: a record that cannot be read still becomes a `ChangeRecord` with `readError`,
 * so it is quarantined (with the record) instead of failing the batch or vanishing.
 */
import * as z from 'zod/mini';
import { imageToJson } from './attributeValue.js';
import type { ChangeRecord } from './changeRecord.js';

const imageSchema = z.record(z.string(), z.unknown());

const lambdaStreamRecordSchema = z.object({
  eventID: z.string().check(z.minLength(1)),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  eventSourceARN: z.string().check(z.minLength(1)),
  userIdentity: z.optional(z.object({ type: z.string(), principalId: z.string() })),
  dynamodb: z.object({
    // Lambda sends epoch seconds; accept a Date or ISO text too (emulators, SDK-shaped records).
    ApproximateCreationDateTime: z.optional(z.union([z.number(), z.date(), z.string()])),
    Keys: z.optional(imageSchema),
    NewImage: z.optional(imageSchema),
    OldImage: z.optional(imageSchema),
    SequenceNumber: z.string().check(z.minLength(1)),
  }),
});

/** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` → `<name>`. */
export function tableNameFromStreamArn(arn: string): string | undefined {
  return /:table\/([^/]+)/.exec(arn)?.[1];
}

function isoTimeOf(value: number | Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function field(raw: unknown, ...path: string[]): unknown {
  let value = raw;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = Reflect.get(value, key);
  }
  return value;
}

/** Read one record of a `DynamoDBStreamEvent`. `index` names records that lack an id. */
export function toChangeRecord(raw: unknown, index: number): ChangeRecord {
  const parsed = lambdaStreamRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const sequenceNumber = field(raw, 'dynamodb', 'SequenceNumber');
    const eventId = field(raw, 'eventID');
    const arn = field(raw, 'eventSourceARN');
    return {
      recordId: typeof eventId === 'string' ? eventId : `unidentified-${index}`,
      sequenceNumber: typeof sequenceNumber === 'string' ? sequenceNumber : '',
      eventName: 'INSERT',
      tableName: (typeof arn === 'string' ? tableNameFromStreamArn(arn) : undefined) ?? 'unknown',
      keys: {},
      removedByTtl: false,
      readError: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; '),
      raw,
    };
  }
  const record = parsed.data;
  const approximateCreationTime = isoTimeOf(record.dynamodb.ApproximateCreationDateTime);
  const base = {
    recordId: record.eventID,
    sequenceNumber: record.dynamodb.SequenceNumber,
    eventName: record.eventName,
    tableName: tableNameFromStreamArn(record.eventSourceARN) ?? 'unknown',
    removedByTtl:
      record.userIdentity?.type === 'Service' && record.userIdentity.principalId === 'dynamodb.amazonaws.com',
    ...(approximateCreationTime ? { approximateCreationTime } : {}),
    raw,
  };
  try {
    return {
      ...base,
      keys: imageToJson(record.dynamodb.Keys ?? {}),
      ...(record.dynamodb.NewImage ? { newImage: imageToJson(record.dynamodb.NewImage) } : {}),
      ...(record.dynamodb.OldImage ? { oldImage: imageToJson(record.dynamodb.OldImage) } : {}),
    };
  } catch (error) {
    return { ...base, keys: {}, readError: error instanceof Error ? error.message : String(error) };
  }
}
