/**
 * SQS for the local runtime: fauxqs in-process, with every queue of `topology.queues`
 * (visibility timeout, retention, redrive policy to its DLQ). fauxqs keeps messages in memory
 * only, so queued messages do not survive a restart of the runtime (see docs/local-runtime.md).
 * It listens on 127.0.0.1 only (`fauxqsLoopback.ts`).
 */
import { type QueueDef, topology } from '../src/contract/topology.js';
import { startLoopbackFauxqs } from './fauxqsLoopback.js';
import { localQueueName } from './resourceNames.js';

export interface LocalQueue {
  readonly key: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly isDeadLetterQueue: boolean;
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export interface LocalQueues {
  readonly endpoint: string;
  readonly port: number;
  readonly queues: Readonly<Record<string, LocalQueue>>;
  /** Non-destructive counts, read from fauxqs's memory (no request, no visibility change). */
  counts(queueKey: string): QueueCounts;
  /** Every message of a queue (ready, delayed, in flight), read from fauxqs's memory without receiving it. */
  messages(queueKey: string): QueuedMessage[];
  stop(): Promise<void>;
}

/** A message as it sits in a queue, with when it becomes receivable (ms since epoch; 0 = now). */
export interface QueuedMessage {
  readonly body: string;
  readonly attributes: Readonly<
    Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>
  >;
  readonly receiveCount: number;
  readonly visibleAt: number;
}

const SECONDS_PER_DAY = 24 * 60 * 60;

export async function startQueues(
  options: { port?: number; queues?: Readonly<Record<string, QueueDef>> } = {},
): Promise<LocalQueues> {
  const defs: Readonly<Record<string, QueueDef>> = options.queues ?? topology.queues;
  const server = await startLoopbackFauxqs(options.port ? { port: options.port } : {});
  const deadLetterKeys = new Set(
    Object.values(defs).flatMap((def) => (def.deadLetter ? [def.deadLetter.queue] : [])),
  );
  const queues: Record<string, LocalQueue> = {};
  const create = (key: string, def: QueueDef): LocalQueue => {
    const existing = queues[key];
    if (existing) return existing;
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(def.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(def.retentionDays * SECONDS_PER_DAY),
    };
    if (def.deadLetter) {
      const dlqDef = defs[def.deadLetter.queue];
      if (!dlqDef) throw new Error(`Queue ${key} names an unknown dead-letter queue ${def.deadLetter.queue}`);
      const dlq = create(def.deadLetter.queue, dlqDef);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: String(def.deadLetter.maxReceiveCount),
      });
    }
    const { queueUrl, queueArn, queueName } = server.createQueue(localQueueName(key), { attributes });
    const queue = {
      key,
      name: queueName,
      url: queueUrl,
      arn: queueArn,
      isDeadLetterQueue: deadLetterKeys.has(key),
    };
    queues[key] = queue;
    return queue;
  };
  for (const [key, def] of Object.entries(defs)) create(key, def);

  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    queues,
    counts(queueKey) {
      const queue = queues[queueKey];
      const inspected = queue ? server.inspectQueue(queue.name) : undefined;
      if (!inspected) return { visible: 0, inFlight: 0, delayed: 0 };
      return {
        visible: inspected.messages.ready.length,
        inFlight: inspected.messages.inflight.length,
        delayed: inspected.messages.delayed.length,
      };
    },
    messages(queueKey) {
      const queue = queues[queueKey];
      const inspected = queue ? server.inspectQueue(queue.name) : undefined;
      if (!inspected) return [];
      const { ready, delayed, inflight } = inspected.messages;
      const of = (message: (typeof ready)[number], visibleAt: number): QueuedMessage => ({
        body: message.body,
        attributes: message.messageAttributes,
        receiveCount: message.approximateReceiveCount,
        visibleAt,
      });
      return [
        ...ready.map((m) => of(m, 0)),
        ...delayed.map((m) => of(m, m.delayUntil ?? 0)),
        ...inflight.map((entry) => of(entry.message, entry.visibilityDeadline)),
      ];
    },
    stop: () => server.stop(),
  };
}
