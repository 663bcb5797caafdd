/**
 * Reading and moving the messages of an SQS dead-letter queue, the same way against fauxqs and AWS:
 * receive, (re-send,) delete. `StartMessageMoveTask` is not used because the local emulator lacks it.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DlqPort } from './boundedRedrive.js';

export interface DlqMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly sentAt: string | undefined;
  readonly attributes: Record<string, MessageAttributeValue>;
}

/** Seconds a listed message stays hidden before we release it again (covers a slow listing). */
const PEEK_VISIBILITY_SECONDS = 60;
const SQS_BATCH = 10;

export function toDlqMessage(message: Message): DlqMessage {
  const sent = message.Attributes?.SentTimestamp;
  return {
    messageId: message.MessageId ?? '',
    body: message.Body ?? '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '0'),
    sentAt: sent ? new Date(Number(sent)).toISOString() : undefined,
    attributes: message.MessageAttributes ?? {},
  };
}

/** Approximate number of messages (visible + in flight) in a queue. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? '0'),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0'),
  };
}

export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  visibilitySeconds = PEEK_VISIBILITY_SECONDS,
): Promise<Message[]> {
  const result = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: SQS_BATCH,
      VisibilityTimeout: visibilitySeconds,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return result.Messages ?? [];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Every message of a DLQ (up to `max`), without removing any: each is received with a short
 * visibility timeout and released at the end. A message received twice is listed once.
 */
export async function peekMessages(sqs: SQSClient, queueUrl: string, max: number): Promise<DlqMessage[]> {
  const seen = new Map<string, Message>();
  const handles: { handle: string }[] = [];
  let emptyReceives = 0;
  // An empty receive can happen with messages left (SQS samples servers): stop after two in a row.
  while (seen.size < max && emptyReceives < 2) {
    const batch = await receiveBatch(sqs, queueUrl, PEEK_VISIBILITY_SECONDS);
    if (batch.length === 0) emptyReceives += 1;
    for (const message of batch) {
      if (message.ReceiptHandle) handles.push({ handle: message.ReceiptHandle });
      if (message.MessageId && !seen.has(message.MessageId)) seen.set(message.MessageId, message);
    }
  }
  await releaseMessages(
    sqs,
    queueUrl,
    handles.map(({ handle }) => handle),
  );
  return [...seen.values()].slice(0, max).map(toDlqMessage);
}

export interface MoveResult {
  readonly moved: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface MoveOptions {
  readonly max: number;
  /** Only messages for which this returns true move; the others are released. */
  readonly select?: (message: DlqMessage) => boolean;
  /** Rewrite a message before it is re-sent (for example to reset an attempt counter). */
  readonly transform?: (message: DlqMessage) => {
    body: string;
    attributes?: Record<string, MessageAttributeValue>;
  };
  readonly onProgress?: (moved: number) => void;
}

/**
 * Move messages from a DLQ back to a queue: receive a batch, re-send it, delete only what was
 * re-sent. A crash between send and delete duplicates a message, never loses one (consumers are
 * idempotent on the event id).
 */
export async function moveMessages(
  sqs: SQSClient,
  fromUrl: string,
  toUrl: string,
  options: MoveOptions,
): Promise<MoveResult> {
  let moved = 0;
  let failed = 0;
  let skipped = 0;
  let emptyReceives = 0;
  const skippedHandles: string[] = [];
  while (moved + failed < options.max && emptyReceives < 2) {
    const batch = await receiveBatch(sqs, fromUrl, PEEK_VISIBILITY_SECONDS);
    if (batch.length === 0) {
      emptyReceives += 1;
      continue;
    }
    emptyReceives = 0;
    const chosen: Message[] = [];
    for (const message of batch) {
      if (options.select && !options.select(toDlqMessage(message))) {
        skipped += 1;
        if (message.ReceiptHandle) skippedHandles.push(message.ReceiptHandle);
      } else chosen.push(message);
    }
    if (chosen.length === 0) continue;
    const entries = chosen.map((message, index) => {
      const dlqMessage = toDlqMessage(message);
      const rewritten = options.transform ? options.transform(dlqMessage) : { body: dlqMessage.body };
      const attributes = rewritten.attributes ?? dlqMessage.attributes;
      return {
        Id: String(index),
        MessageBody: rewritten.body,
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      };
    });
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: toUrl, Entries: entries }));
    failed += sent.Failed?.length ?? 0;
    const deletions = (sent.Successful ?? []).flatMap((ok) => {
      const handle = chosen[Number(ok.Id)]?.ReceiptHandle;
      return handle ? [{ Id: ok.Id ?? '0', ReceiptHandle: handle }] : [];
    });
    if (deletions.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fromUrl, Entries: deletions }));
    }
    moved += deletions.length;
    options.onProgress?.(moved);
  }
  await releaseMessages(sqs, fromUrl, skippedHandles);
  return { moved, failed, skipped };
}

/** Make received messages visible again at once. */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<void> {
  for (const group of chunks(receiptHandles, SQS_BATCH)) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: group.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** Delete received messages (after a redrive that does not go through SQS). */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<void> {
  for (const group of chunks(receiptHandles, SQS_BATCH)) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: group.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
      }),
    );
  }
}

/** Seconds a redrive holds what it received: longer than any run, released at the end. */
const REDRIVE_HOLD_SECONDS = 900;

/** The SQS side of `boundedRedrive` (and of `dlq delete|purge`). */
export function sqsDlqPort(sqs: SQSClient, queueUrl: string): DlqPort {
  return {
    async depth() {
      const { visible, inFlight } = await queueDepth(sqs, queueUrl);
      return visible + inFlight;
    },
    async receive() {
      const batch = await receiveBatch(sqs, queueUrl, REDRIVE_HOLD_SECONDS);
      return batch.flatMap((message) =>
        message.MessageId && message.ReceiptHandle
          ? [
              {
                messageId: message.MessageId,
                receiptHandle: message.ReceiptHandle,
                body: message.Body ?? '',
                attributes: Object.fromEntries(
                  Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) =>
                    value.StringValue !== undefined ? [[name, value.StringValue]] : [],
                  ),
                ),
              },
            ]
          : [],
      );
    },
    delete: (handles) => deleteMessages(sqs, queueUrl, handles),
    release: (handles) => releaseMessages(sqs, queueUrl, handles),
  };
}
