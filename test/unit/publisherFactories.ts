/** Factories for publisher, audit and producer tests: outbox rows, stream records, bus messages. */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Envelope } from '../../src/core/envelope.js';
import type { OutboxRowInput } from '../../src/core/outboxRow.js';
import { envelopeFactory as sharedEnvelopeFactory } from '../helpers/envelopes.js';

let counter = 0;
const next = () => {
  counter += 1;
  return counter;
};

export function outboxRowInputFactory(overrides: Partial<OutboxRowInput> = {}): OutboxRowInput {
  const n = next();
  return {
    eventId: `evt_${String(n).padStart(4, '0')}`,
    tenantId: 'tenant-a',
    channel: 'orders',
    type: 'order.created',
    resourceId: `order-${n}`,
    data: { total: n },
    occurredAt: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

/** An envelope as the publisher makes one from `outboxRowInputFactory`'s defaults (the shared factory underneath). */
export function envelopeFactory(overrides: Partial<Envelope> = {}): Envelope {
  const n = next();
  return sharedEnvelopeFactory({
    id: `evt_${n}`,
    tenantId: 'tenant-a',
    type: 'order.created',
    resourceId: 'order-1',
    time: '2026-11-20T10:00:00.000Z',
    data: { total: 42 },
    ...overrides,
  });
}

export const OUTBOX_TABLE_NAME = 'outbox-relay-outbox';

export function streamArn(tableName: string): string {
  return `arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}/stream/2026-11-20T00:00:00.000`;
}

export interface StreamRecordOptions {
  readonly eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly tableName?: string;
  readonly keys?: Record<string, unknown>;
  /** Plain values, marshalled to AttributeValues; `null` leaves the image out. */
  readonly newImage?: Record<string, unknown> | null;
  readonly oldImage?: Record<string, unknown>;
  readonly sequenceNumber?: string;
  readonly eventID?: string;
  readonly approximateCreationDateTime?: number;
  readonly userIdentity?: { type: string; principalId: string };
}

/** A Lambda DynamoDB stream record (AttributeValue images), as the event source mapping delivers it. */
export function streamRecordFactory(options: StreamRecordOptions = {}): Record<string, unknown> {
  const n = next();
  const newImage = options.newImage === undefined ? { ...outboxRowInputFactory() } : options.newImage;
  const keys =
    options.keys ??
    (newImage && typeof newImage.tenantId === 'string'
      ? { pk: `${newImage.tenantId}#${String(newImage.channel)}`, sk: String(newImage.eventId) }
      : { pk: `unknown#${n}`, sk: `sk-${n}` });
  return {
    eventID: options.eventID ?? `stream-event-${n}`,
    eventName: options.eventName ?? 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: streamArn(options.tableName ?? OUTBOX_TABLE_NAME),
    ...(options.userIdentity ? { userIdentity: options.userIdentity } : {}),
    dynamodb: {
      ApproximateCreationDateTime: options.approximateCreationDateTime ?? 1_795_000_000,
      Keys: marshall(keys),
      ...(newImage ? { NewImage: marshall({ ...keys, ...newImage }, { removeUndefinedValues: true }) } : {}),
      ...(options.oldImage ? { OldImage: marshall(options.oldImage, { removeUndefinedValues: true }) } : {}),
      SequenceNumber: options.sequenceNumber ?? String(1000 + n).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

/** The SQS body an EventBridge rule delivers: the whole event, `detail` = the envelope. */
export function busEventBody(detail: unknown, detailType = 'order.created'): string {
  return JSON.stringify({
    version: '0',
    id: `eb-${next()}`,
    'detail-type': detailType,
    source: 'outbox-relay',
    account: '123456789012',
    time: '2026-11-20T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  });
}

export function sqsRecordFactory(body: string, messageId = `msg-${next()}`): Record<string, unknown> {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795000000000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1795000000001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:outbox-relay-audit',
    awsRegion: 'us-east-1',
  };
}
