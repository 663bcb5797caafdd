/**
 * Synthetic DynamoDB Streams events (the Lambda `DynamoDBStreamEvent` shape) of outbox rows, for
 * driving the publisher handler directly at a known rate and size.
 */
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type OutboxRowInput, toOutboxRow } from '../../src/core/outboxRow.js';

const STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:000000000000:table/outbox-relay-outbox/stream/2026-11-23T00:00:00.000';

function toAttribute(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (typeof value === 'object') {
    const map: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(value)) map[k] = toAttribute(v);
    return { M: map };
  }
  throw new TypeError(`cannot marshal ${typeof value}`);
}

function toImage(item: Record<string, unknown>): Record<string, AttributeValue> {
  const image: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) image[k] = toAttribute(v);
  return image;
}

let sequence = 1_000_000_000;

/** One INSERT record of an outbox row whose `data` holds `payloadBytes` of text. */
export function outboxInsertRecord(input: OutboxRowInput): DynamoDBRecord {
  const row = toOutboxRow(input, Math.floor(Date.now() / 1000));
  sequence += 1;
  return {
    eventID: `bench-${sequence}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: { S: row.pk }, sk: { S: row.sk } },
      NewImage: toImage(row),
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: JSON.stringify(row).length,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: STREAM_ARN,
  };
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** A row input with a `data.blob` of about `payloadBytes`. */
export function benchRow(index: number, payloadBytes: number, channel = 'bench'): OutboxRowInput {
  return {
    eventId: `evt-${process.pid}-${Date.now().toString(36)}-${index}`,
    tenantId: 'bench-tenant',
    channel,
    type: 'bench.event',
    resourceId: `res-${index % 100}`,
    data: { index, blob: 'x'.repeat(Math.max(0, payloadBytes)) },
    occurredAt: new Date().toISOString(),
  };
}
