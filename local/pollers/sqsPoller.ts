/**
 * SQS → function with Lambda's SQS event-source semantics: long-poll receive (10 per call),
 * accumulate up to the batch size or the batching window, invoke with the SQSEvent shape, delete
 * the successes, leave the failures for redelivery after the visibility timeout (the queue's
 * redrive policy moves them to the DLQ after maxReceiveCount). A thrown error fails the batch.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { QueueMappingDef } from '../../src/contract/topology.js';
import { LOCAL_REGION } from '../constants.js';
import { PRIOR_RECEIVES_ATTRIBUTE } from '../queueSnapshot.js';
import type { LocalQueue } from '../queues.js';
import { readBatchResponse } from './batchResponse.js';

const SQS_MAX_RECEIVE = 10;
/**
 * Short long polls: stop() lets the current receive finish instead of aborting it, because an
 * emulator may still hand messages to an abandoned receive (they would then sit invisible until
 * their visibility timeout).
 */
const LONG_POLL_SECONDS = 1;

export interface SqsPollerOptions {
  readonly mapping: Pick<QueueMappingDef, 'function' | 'batchSize' | 'maxBatchingWindowSeconds'>;
  readonly queue: Pick<LocalQueue, 'url' | 'arn'>;
  readonly client: SQSClient;
  readonly invoke: (functionName: string, event: SQSEvent) => Promise<unknown>;
  /** Overrides the mapping's batching window, in milliseconds (sub-second windows locally). */
  readonly batchingWindowMs?: number;
  /** Batches processed at once. 1 keeps the queue's order. */
  readonly concurrency?: number;
  readonly onError?: (error: unknown) => void;
  /** Told how many messages that failed during an outage's aftermath were retried soon (see retryFailedSince). */
  readonly onRetriedAfterOutage?: (count: number) => void;
}

export interface SqsPoller {
  /** Batches received and not yet settled (invoked + deleted). */
  readonly busy: number;
  /**
   * Makes the messages that failed since `since` (ms) visible again now, instead of after their
   * visibility timeout: after an outage of a part (DynamoDB Local restarted) they failed for a
   * reason that is gone. Resolves with how many were released. For a minute afterwards, and for
   * the batches still running then (received before or during the outage), a failure is retried
   * after 2 s (once per message; a second failure waits for the visibility timeout): an invocation that met the outage can end after it (a request to the dead JVM
   * waiting out the function's timeout), and a pooled connection to the dead JVM can fail a
   * request just after the restart; their messages would otherwise wait out the queue's
   * visibility timeout (4–7 minutes) — long enough for a backlog to look lost.
   */
  retryFailedSince(since: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * After an outage ends, failures within this long are retried after RECOVERY_RETRY_SECONDS instead
 * of the visibility timeout: a function's timeout (60 s at most here) covers an invocation that
 * met the outage, and a short delay keeps a message that keeps failing from burning its receives.
 */
const RECOVERY_MS = 60_000;
const RECOVERY_RETRY_SECONDS = 2;
/** Failed receipts remembered for `retryFailedSince` (the oldest are forgotten first). */
const FAILED_MEMORY = 10_000;

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  let stopping = false;
  const windowMs = options.batchingWindowMs ?? options.mapping.maxBatchingWindowSeconds * 1000;
  const batchSize = options.mapping.batchSize;
  let busy = 0;
  let failed: { receiptHandle: string; at: number }[] = [];
  /** Batches received before this moment (ms) that fail are made visible again at once (see retryFailedSince). */
  let outageEndedAt = 0;
  /** Messages already retried soon after the last outage (each is, once). */
  let retriedSoon = new Set<string>();

  const makeVisible = async (receiptHandles: readonly string[], afterSeconds = 0): Promise<number> => {
    let released = 0;
    for (let i = 0; i < receiptHandles.length; i += SQS_MAX_RECEIVE) {
      const chunk = receiptHandles.slice(i, i + SQS_MAX_RECEIVE);
      // A handle already deleted or received again is refused per entry: that message is not waiting.
      const out = await options.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queue.url,
          Entries: chunk.map((receiptHandle, index) => ({
            Id: String(index),
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: afterSeconds,
          })),
        }),
      );
      released += out.Successful?.length ?? 0;
    }
    return released;
  };

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    const out = await options.client.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queue.url,
        MaxNumberOfMessages: Math.min(SQS_MAX_RECEIVE, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return out.Messages ?? [];
  };

  const collectBatch = async (): Promise<Message[]> => {
    const batch = await receive(batchSize, LONG_POLL_SECONDS);
    if (batch.length === 0) return batch;
    const deadline = Date.now() + windowMs;
    while (batch.length < batchSize && !stopping) {
      const more = await receive(batchSize - batch.length, 0);
      batch.push(...more);
      if (more.length > 0) continue;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await delay(Math.min(50, remaining));
    }
    return batch;
  };

  const processBatch = async (messages: Message[], receivedAt: number): Promise<void> => {
    const records = messages.map((message) => toSqsRecord(message, options.queue.arn));
    let toDelete: SQSRecord[] = [];
    try {
      const response = await options.invoke(options.mapping.function, { Records: records });
      const outcome = readBatchResponse(response, new Set(records.map((r) => r.messageId)));
      if (outcome.kind === 'success') toDelete = records;
      else if (outcome.kind === 'partial') toDelete = records.filter((r) => !outcome.failed.has(r.messageId));
    } catch {
      // Whole batch failed (the invoker reported why): every message returns after its visibility timeout.
    }
    const deleted = new Set(toDelete.map((r) => r.receiptHandle));
    const now = Date.now();
    const failedRecords = records.filter((r) => !deleted.has(r.receiptHandle));
    // A batch that met an outage which is over, or a failure while the part was just back (a
    // pooled connection to the dead JVM): retried soon, not after the visibility timeout — once
    // per message, so a message that keeps failing cannot burn its receives into the DLQ.
    const soon =
      receivedAt <= outageEndedAt || now - outageEndedAt < RECOVERY_MS
        ? failedRecords.filter((r) => !retriedSoon.has(r.messageId))
        : [];
    for (const record of soon) retriedSoon.add(record.messageId);
    const later = failedRecords.filter((r) => !soon.includes(r));
    if (soon.length > 0) {
      const released = await makeVisible(
        soon.map((r) => r.receiptHandle),
        RECOVERY_RETRY_SECONDS,
      ).catch(() => 0);
      if (released > 0) options.onRetriedAfterOutage?.(released);
    }
    for (const record of later) failed.push({ receiptHandle: record.receiptHandle, at: now });
    if (failed.length > FAILED_MEMORY) failed = failed.slice(-FAILED_MEMORY);
    for (let i = 0; i < toDelete.length; i += SQS_MAX_RECEIVE) {
      const chunk = toDelete.slice(i, i + SQS_MAX_RECEIVE);
      await options.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.queue.url,
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
    }
  };

  const worker = async (): Promise<void> => {
    while (!stopping) {
      try {
        const receivedAt = Date.now();
        const messages = await collectBatch();
        if (messages.length > 0) {
          busy += 1;
          try {
            await processBatch(messages, receivedAt);
          } finally {
            busy -= 1;
          }
        }
      } catch (error) {
        if (stopping) return;
        options.onError?.(error);
        await delay(250);
      }
    }
  };

  const workers = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () => worker());
  return {
    get busy() {
      return busy;
    },
    async retryFailedSince(since) {
      outageEndedAt = Date.now();
      retriedSoon = new Set();
      const release = failed.filter((f) => f.at >= since);
      failed = failed.filter((f) => f.at < since);
      return makeVisible(release.map((f) => f.receiptHandle));
    },
    /** Finishes the batch in hand (a receive ends within LONG_POLL_SECONDS), then stops. */
    async stop() {
      stopping = true;
      await Promise.allSettled(workers);
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const now = String(Date.now());
  // A message restored from a queue snapshot keeps counting its receives from before the restart.
  const { [PRIOR_RECEIVES_ATTRIBUTE]: prior, ...messageAttributes } = message.MessageAttributes ?? {};
  const receives =
    Number(attributes.ApproximateReceiveCount ?? '1') + (Number(prior?.StringValue ?? '0') || 0);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ...attributes,
      ApproximateReceiveCount: String(receives),
      SentTimestamp: attributes.SentTimestamp ?? now,
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? now,
    },
    messageAttributes: toLambdaMessageAttributes(messageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

function toLambdaMessageAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}
