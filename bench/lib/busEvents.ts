/** EventBridge events as the bus rules put them on the queues (SQS body = the event JSON, `detail` = envelope). */
import { randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/constants.js';
import { type Envelope, EVENT_SOURCE } from '../../src/core/envelope.js';
import { outboxRowToEnvelope } from '../../src/core/outboxRow.js';
import { BENCH_TENANT, nowMs } from './harness.js';

let sequence = 0;

/** An envelope on `channel` stamped with `data.sentAt` (now) plus `extra`. */
export function stampedEnvelope(channel: string, extra: Record<string, unknown> = {}): Envelope {
  sequence += 1;
  const time = new Date();
  return outboxRowToEnvelope({
    eventId: `bench-${process.pid}-${time.getTime().toString(36)}-${sequence.toString().padStart(7, '0')}`,
    tenantId: BENCH_TENANT,
    channel,
    type: 'bench.event',
    data: { ...extra, sentAt: nowMs() },
    occurredAt: time.toISOString(),
  });
}

export function busEventBody(envelope: Envelope): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': envelope.type,
    source: EVENT_SOURCE,
    account: LOCAL_ACCOUNT_ID,
    time: envelope.time,
    region: LOCAL_REGION,
    resources: [],
    detail: envelope,
  });
}

/** An SQS event (Lambda shape) carrying the given bodies, as a queue mapping would invoke the handler. */
export function sqsEvent(
  bodies: readonly string[],
  queueArn = 'arn:aws:sqs:us-east-1:000000000000:bench',
): unknown {
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: LOCAL_REGION,
    })),
  };
}
