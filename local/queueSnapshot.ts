/**
 * fauxqs keeps queues in memory, so a clean stop of the offline runtime writes every queued
 * message (ready, delayed, in flight; DLQs included) to `<dataDir>/queues.json`, and the next
 * start sends them back before any poller runs. What a message keeps: its body, its message
 * attributes, its receive count (carried in a message attribute that the local SQS poller adds to
 * `ApproximateReceiveCount`, so a webhook retry keeps its attempt number) and its remaining delay
 * or visibility timeout (capped at SQS's 900 s `DelaySeconds`: a retry scheduled further ahead
 * happens at most 15 minutes after the restart, earlier than planned, never lost).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { SQS_MAX_DELAY_SECONDS } from '../src/core/limits.js';
import type { LocalQueues } from './queues.js';

/** Message attribute carrying the receives a message had before it was restored. */
export const PRIOR_RECEIVES_ATTRIBUTE = 'OutboxRelayPriorReceives';
const SEND_BATCH = 10;

const attributeSchema = z.object({
  DataType: z.string(),
  StringValue: z.string().optional(),
  BinaryValue: z.string().optional(),
});
const snapshotSchema = z.object({
  version: z.literal(1),
  takenAt: z.iso.datetime(),
  queues: z.record(
    z.string(),
    z.array(
      z.object({
        body: z.string(),
        attributes: z.record(z.string(), attributeSchema),
        receiveCount: z.number().int().min(0),
        visibleAt: z.number(),
      }),
    ),
  ),
});
type Snapshot = z.infer<typeof snapshotSchema>;

export class QueueSnapshotError extends Error {
  override readonly name = 'QueueSnapshotError';
}

export function queueSnapshotPath(dataDir: string): string {
  return join(dataDir, 'queues.json');
}

/** Messages per queue key; only queues holding messages are listed. */
export type QueueMessageCounts = Readonly<Record<string, number>>;

/** Writes every queued message to the snapshot file (atomically). Call after the pollers have stopped. */
export function writeQueueSnapshot(
  queues: Pick<LocalQueues, 'queues' | 'messages'>,
  path: string,
): QueueMessageCounts {
  const snapshot: Snapshot = { version: 1, takenAt: new Date().toISOString(), queues: {} };
  const counts: Record<string, number> = {};
  for (const key of Object.keys(queues.queues)) {
    const messages = queues.messages(key);
    if (messages.length === 0) continue;
    snapshot.queues[key] = messages.map((m) => ({
      body: m.body,
      attributes: { ...m.attributes },
      receiveCount: m.receiveCount,
      visibleAt: m.visibleAt,
    }));
    counts[key] = messages.length;
  }
  writeFileSync(`${path}.tmp`, JSON.stringify(snapshot));
  renameSync(`${path}.tmp`, path);
  return counts;
}

/**
 * Sends the snapshot's messages back into their queues and removes the file. Undefined when there
 * is no snapshot (first start, or the previous run did not stop cleanly).
 */
export async function restoreQueueSnapshot(
  client: SQSClient,
  queues: Pick<LocalQueues, 'queues'>,
  path: string,
  now: number = Date.now(),
): Promise<QueueMessageCounts | undefined> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let snapshot: Snapshot;
  try {
    snapshot = snapshotSchema.parse(JSON.parse(raw));
  } catch (error) {
    throw new QueueSnapshotError(`${path} is not a queue snapshot of this runtime`, { cause: error });
  }
  const counts: Record<string, number> = {};
  for (const [key, messages] of Object.entries(snapshot.queues)) {
    const queue = queues.queues[key];
    if (!queue) throw new QueueSnapshotError(`${path} holds messages for an unknown queue ${key}`);
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      const chunk = messages.slice(i, i + SEND_BATCH);
      const out = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            MessageBody: message.body,
            DelaySeconds: restoredDelaySeconds(message.visibleAt, now),
            MessageAttributes: restoredAttributes(message.attributes, message.receiveCount),
          })),
        }),
      );
      if (out.Failed && out.Failed.length > 0) {
        throw new QueueSnapshotError(
          `restoring ${key}: ${out.Failed.map((f) => f.Message).join(', ')} (the snapshot is kept)`,
        );
      }
    }
    counts[key] = messages.length;
  }
  rmSync(path, { force: true });
  return counts;
}

/** Seconds until a message becomes visible again, within SQS's `DelaySeconds` range. */
export function restoredDelaySeconds(visibleAt: number, now: number): number {
  if (visibleAt <= now) return 0;
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil((visibleAt - now) / 1000));
}

function restoredAttributes(
  attributes: Readonly<Record<string, z.infer<typeof attributeSchema>>>,
  receiveCount: number,
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  let prior = receiveCount;
  for (const [name, value] of Object.entries(attributes)) {
    // Restored twice: the receives counted before the first restore are still owed.
    if (name === PRIOR_RECEIVES_ATTRIBUTE) {
      prior += Number(value.StringValue ?? '0') || 0;
      continue;
    }
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue, 'base64') } : {}),
    };
  }
  if (prior > 0) out[PRIOR_RECEIVES_ATTRIBUTE] = { DataType: 'Number', StringValue: String(prior) };
  return out;
}

/** `auditQueue 3, webhookDeliveryQueue 50` (or `nothing`). */
export function describeCounts(counts: QueueMessageCounts): string {
  const parts = Object.entries(counts).map(([key, n]) => `${key} ${n}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
