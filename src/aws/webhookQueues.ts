/**
 * The webhook queues: sending delivery messages (dispatcher), scheduling a retry on the same
 * message and parking a dead letter (delivery), and reading a DLQ message back (the CLI's
 * `dlq` commands, which redrive through src/cli/ops/).
 */
import { SQS_MAX_MESSAGE_BYTES } from '../core/limits.js';
import { consoleLog, type LogPort } from '../core/log.js';
import {
  type DeadLetter,
  type DeliveryMessage,
  deadLetterSchema,
  deliveryMessageSchema,
} from '../core/webhookMessages.js';
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SqsClientLike,
  sqsSender,
} from './sdk/sqs.js';

/** SendMessageBatch: at most 10 entries and 1 MiB for the whole request. */
export const SQS_BATCH_MAX_ENTRIES = 10;

/** Groups message bodies into SendMessageBatch-sized chunks (count and total bytes). */
export function chunkForSendBatch<T>(items: readonly T[], bodyOf: (item: T) => string): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(bodyOf(item));
    if (
      current.length > 0 &&
      (current.length === SQS_BATCH_MAX_ENTRIES || bytes + size > SQS_MAX_MESSAGE_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Sends delivery messages; resolves with the ones SQS did not accept. */
export async function sendDeliveries(
  client: SqsClientLike,
  queueUrl: string,
  messages: readonly DeliveryMessage[],
  log: LogPort = consoleLog,
): Promise<DeliveryMessage[]> {
  const unsent: DeliveryMessage[] = [];
  for (const chunk of chunkForSendBatch(messages, (m) => JSON.stringify(m))) {
    try {
      const result = await sqsSender(client).send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(message),
          })),
        }),
      );
      for (const failed of result.Failed ?? []) {
        const message = chunk[Number(failed.Id)];
        if (message) unsent.push(message);
      }
    } catch (error) {
      log.error('SendMessageBatch failed', { queueUrl, error });
      unsent.push(...chunk);
    }
  }
  return unsent;
}

/**
 * A deferral (the endpoint's circuit is open): the message goes back as a new message carrying the
 * attempt number it did not use, delayed; the caller then deletes the received one.
 */
export async function deferDelivery(
  client: SqsClientLike,
  queueUrl: string,
  message: DeliveryMessage,
  delaySeconds: number,
): Promise<void> {
  await sqsSender(client).send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(message),
      DelaySeconds: delaySeconds,
    }),
  );
}

/** The retry: the same message becomes visible again after `delaySeconds`. */
export async function scheduleRetry(
  client: SqsClientLike,
  queueUrl: string,
  receiptHandle: string,
  delaySeconds: number,
): Promise<void> {
  await sqsSender(client).send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: delaySeconds,
    }),
  );
}

export async function sendDeadLetter(
  client: SqsClientLike,
  dlqUrl: string,
  letter: DeadLetter,
): Promise<void> {
  await sqsSender(client).send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: JSON.stringify(letter),
      // Attributes let operators (and `outbox-relay dlq`) see why without parsing the body.
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: letter.deadLetter.code },
        endpointId: { DataType: 'String', StringValue: letter.endpointId },
        tenantId: { DataType: 'String', StringValue: letter.tenantId },
      },
    }),
  );
}

/**
 * Parks a delivery-queue message that is not a delivery message (only our dispatcher writes that
 * queue) in the webhook DLQ as it came, with the reason as an attribute, rather than drop it.
 */
export async function parkInvalidDelivery(
  client: SqsClientLike,
  dlqUrl: string,
  body: string,
): Promise<void> {
  await sqsSender(client).send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: body === '' ? '(empty body)' : body,
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'invalid_message' } },
    }),
  );
}

/** A DLQ body is our dead letter, or a bare delivery message moved by the queue's redrive policy. */
export function readDlqMessage(body: string): DeliveryMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const letter = deadLetterSchema.safeParse(json);
  if (letter.success) {
    const { deadLetter: _reason, ...delivery } = letter.data;
    return delivery;
  }
  const bare = deliveryMessageSchema.safeParse(json);
  return bare.success ? bare.data : undefined;
}
