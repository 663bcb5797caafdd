/**
 * The one envelope factory of the tests: a valid envelope with a fresh id and a later time on
 * every call (so positions order as created), overridable field by field.
 */
import { ENVELOPE_VERSION, type Envelope, positionOf } from '../../src/core/envelope.js';

let counter = 0;

/** `at` (epoch ms) sets the time; `id` and `time` keep the position consistent with them. */
export function envelopeFactory(overrides: Partial<Envelope> & { at?: number } = {}): Envelope {
  counter += 1;
  const { at, ...rest } = overrides;
  const id = rest.id ?? `evt-${String(counter).padStart(6, '0')}`;
  const time = rest.time ?? new Date(at ?? Date.UTC(2026, 0, 1, 0, 0, 0, counter)).toISOString();
  return {
    version: ENVELOPE_VERSION,
    id,
    source: 'outbox',
    tenantId: 't1',
    channel: 'orders',
    type: 'order.updated',
    resourceId: null,
    time,
    position: positionOf(time, id),
    data: { n: counter },
    ...rest,
  };
}

/** The EventBridge event the bus delivers to a queue target, with the envelope as `detail`. */
export function busEventBody(envelope: Envelope): string {
  return JSON.stringify({
    version: '0',
    id: `eb-${envelope.id}`,
    'detail-type': envelope.type,
    source: 'outbox-relay',
    account: '123456789012',
    time: envelope.time,
    region: 'us-east-1',
    resources: [],
    detail: envelope,
  });
}

/** An SQS record as Lambda's SQS event source passes it. */
export function sqsRecordFactory(body: string, messageId: string): Record<string, unknown> {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1795000000000' },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    awsRegion: 'us-east-1',
  };
}
