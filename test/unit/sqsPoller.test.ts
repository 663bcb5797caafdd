import { PurgeQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SqsPoller, startSqsPoller } from '../../local/pollers/sqsPoller.js';
import { type LocalQueues, startQueues } from '../../local/queues.js';
import { waitFor } from '../helpers/waitFor.js';

let queues: LocalQueues;
let client: SQSClient;
let poller: SqsPoller | undefined;

beforeAll(async () => {
  queues = await startQueues({
    queues: {
      work: {
        env: 'WORK_QUEUE_URL',
        visibilityTimeoutSeconds: 1,
        retentionDays: 1,
        deadLetter: { queue: 'workDlq', maxReceiveCount: 2 },
      },
      workDlq: { env: 'WORK_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 1 },
      other: { env: 'OTHER_QUEUE_URL', visibilityTimeoutSeconds: 30, retentionDays: 1 },
    },
  });
  client = new SQSClient({
    endpoint: queues.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});
afterAll(async () => {
  client.destroy();
  await queues.stop();
});

function queue(key: string) {
  const found = queues.queues[key];
  if (!found) throw new Error(`no queue ${key}`);
  return found;
}

async function send(key: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue(key).url,
        Entries: bodies.slice(i, i + 10).map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
}

const depth = (key: string) => {
  const c = queues.counts(key);
  return c.visible + c.inFlight + c.delayed;
};

describe('SQS poller (Lambda SQS event source semantics)', () => {
  it('invokes with the SQSEvent shape and deletes every message of a successful batch', async () => {
    await send('other', ['a', 'b', 'c']);
    const events: SQSEvent[] = [];
    poller = startSqsPoller({
      mapping: { function: 'audit', batchSize: 10, maxBatchingWindowSeconds: 0 },
      queue: queue('other'),
      client,
      invoke: async (_name, event) => {
        events.push(event);
      },
    });
    await waitFor(() => depth('other') === 0 && events.flatMap((e) => e.Records).length === 3, {
      timeoutMs: 10_000,
    });
    const first = events[0]?.Records[0];
    expect(first).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: queue('other').arn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
    });
    expect(first?.messageId).toBeTruthy();
    expect(first?.receiptHandle).toBeTruthy();
    expect(events.flatMap((e) => e.Records.map((r) => r.body)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('deletes the successes, redelivers a reported failure after the visibility timeout, and the redrive policy moves it to the DLQ', async () => {
    await send('work', ['ok-1', 'bad', 'ok-2']);
    const received: { body: string; receiveCount: string }[] = [];
    poller = startSqsPoller({
      mapping: { function: 'audit', batchSize: 10, maxBatchingWindowSeconds: 0 },
      queue: queue('work'),
      client,
      invoke: async (_name, event) => {
        for (const r of event.Records)
          received.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount });
        return {
          batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    });
    await waitFor(() => depth('workDlq') === 1 && depth('work') === 0, { timeoutMs: 15_000 });
    expect(received.filter((r) => r.body === 'ok-1')).toHaveLength(1);
    expect(received.filter((r) => r.body === 'ok-2')).toHaveLength(1);
    expect(received.filter((r) => r.body === 'bad').map((r) => r.receiveCount)).toEqual(['1', '2']);
  });

  it('fails the whole batch when the handler throws: every message comes back after the visibility timeout', async () => {
    await send('work', ['x', 'y']);
    const calls: { bodies: string[]; receiveCounts: string[] }[] = [];
    poller = startSqsPoller({
      mapping: { function: 'audit', batchSize: 10, maxBatchingWindowSeconds: 0 },
      batchingWindowMs: 200,
      queue: queue('work'),
      client,
      invoke: async (_name, event) => {
        calls.push({
          bodies: event.Records.map((r) => r.body).sort(),
          receiveCounts: event.Records.map((r) => r.attributes.ApproximateReceiveCount),
        });
        if (calls.length === 1) throw new Error('boom');
      },
    });
    await waitFor(() => calls.length === 2 && depth('work') === 0, { timeoutMs: 15_000 });
    expect(calls).toEqual([
      { bodies: ['x', 'y'], receiveCounts: ['1', '1'] },
      { bodies: ['x', 'y'], receiveCounts: ['2', '2'] },
    ]);
  });

  it('retries soon a batch that met an outage and failed after it ended, not after the visibility timeout', async () => {
    await send('other', ['met-the-outage']);
    const receiveCounts: string[] = [];
    let failFirst: (error: Error) => void = () => {};
    const retried: number[] = [];
    poller = startSqsPoller({
      mapping: { function: 'webhookDelivery', batchSize: 10, maxBatchingWindowSeconds: 0 },
      queue: queue('other'),
      client,
      invoke: (_name, event) => {
        receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        // The first invocation hangs through the outage (a request to the dead JVM) and fails after it.
        if (receiveCounts.length === 1) return new Promise((_, reject) => (failFirst = reject));
        return Promise.resolve();
      },
      onRetriedAfterOutage: (count) => retried.push(count),
    });
    await waitFor(() => receiveCounts.length === 1, { timeoutMs: 10_000 });
    // The outage ends while the batch still runs; nothing had failed yet.
    expect(await poller.retryFailedSince(Date.now() - 5_000)).toBe(0);
    failFirst(new Error('socket hang up'));
    // 'other' hides a failed message for 30 s: it is back well before that.
    await waitFor(() => receiveCounts.length === 2 && depth('other') === 0, { timeoutMs: 10_000 });
    expect(receiveCounts).toEqual(['1', '2']);
    expect(retried).toEqual([1]);
  });

  it('retries soon, once, a message that fails just after an outage ended (a pooled connection to the dead JVM)', async () => {
    const receiveCounts: string[] = [];
    poller = startSqsPoller({
      mapping: { function: 'webhookDelivery', batchSize: 10, maxBatchingWindowSeconds: 0 },
      queue: queue('other'),
      client,
      invoke: async (_name, event) => {
        receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        throw new Error('socket hang up');
      },
    });
    expect(await poller.retryFailedSince(Date.now() - 5_000)).toBe(0);
    await send('other', ['just-after-the-outage']);
    await waitFor(() => receiveCounts.length === 2, { timeoutMs: 10_000 });
    // The second failure waits for the queue's 30 s visibility timeout: no third receive soon.
    await new Promise((done) => setTimeout(done, 4_000));
    expect(receiveCounts).toEqual(['1', '2']);
    expect(queues.counts('other').inFlight).toBe(1);
    await poller.stop();
    poller = undefined;
    await client.send(new PurgeQueueCommand({ QueueUrl: queue('other').url }));
  });

  it('accumulates messages up to the batch size within the batching window', async () => {
    await send(
      'other',
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    const sizes: number[] = [];
    poller = startSqsPoller({
      mapping: { function: 'audit', batchSize: 25, maxBatchingWindowSeconds: 0 },
      batchingWindowMs: 2000,
      queue: queue('other'),
      client,
      invoke: async (_name, event) => {
        sizes.push(event.Records.length);
      },
    });
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) >= 25, { timeoutMs: 10_000 });
    expect(sizes).toEqual([25]);
  });
});
