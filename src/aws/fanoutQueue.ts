/**
 * The fan-out queue's producer side: targeted (per-connection) retries go back on the fan-out
 * queue, poison messages go straight to its DLQ with the reason as message attributes.
 */
import { topology } from '../contract/topology.js';
import type { FanoutChunk } from '../core/fanoutChunk.js';
import type { TargetedDelivery } from '../core/targetedDelivery.js';
import { requireEnv } from './env.js';
import { getSqsSender, SendMessageCommand, type SqsClientLike, sqsSender } from './sdk/sqs.js';

export const FANOUT_QUARANTINE_REASONS = [
  'invalid_json',
  'not_an_event',
  'invalid_envelope',
  'invalid_targeted_delivery',
  'invalid_fanout_chunk',
  'delivery_exhausted',
] as const;
export type FanoutQuarantineReason = (typeof FANOUT_QUARANTINE_REASONS)[number];

export interface FanoutQueue {
  enqueueTargeted(delivery: TargetedDelivery, delaySeconds?: number): Promise<void>;
  /** A shard chunk of a wide fan-out, for another invocation. */
  enqueueChunk(chunk: FanoutChunk): Promise<void>;
  /** Park a message in the fan-out DLQ with a reason code and a sentence. */
  quarantine(body: string, reason: FanoutQuarantineReason, detail: string): Promise<void>;
}

export function createFanoutQueue(clientLike: SqsClientLike, queueUrl: string, dlqUrl: string): FanoutQueue {
  // Loads the SQS client on the first send only: most fan-outs never re-enqueue anything.
  const client = sqsSender(clientLike);
  return {
    async enqueueTargeted(delivery, delaySeconds = 0) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify(delivery),
          DelaySeconds: delaySeconds,
        }),
      );
    },
    async enqueueChunk(chunk) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(chunk) }));
    },
    async quarantine(body, reason, detail) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: body === '' ? '(empty body)' : body,
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: reason },
            detail: { DataType: 'String', StringValue: detail.slice(0, 1000) || reason },
            source: { DataType: 'String', StringValue: 'fanout' },
          },
        }),
      );
    },
  };
}

export function getFanoutQueue(): FanoutQueue {
  return createFanoutQueue(
    getSqsSender(),
    requireEnv(topology.queues.fanoutQueue.env),
    requireEnv(topology.queues.fanoutDlq.env),
  );
}
