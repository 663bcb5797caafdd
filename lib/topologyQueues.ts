/**
 * Queues built from `topology.queues`: SQS-managed encryption, SSL-only policy, the topology's
 * visibility timeout, retention and dead-letter queue with its `maxReceiveCount`.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type QueueDef, type QueueName, topology } from '../src/contract/topology.js';
import { acknowledge } from './nagSuppressions.js';
import { constructId } from './naming.js';

function queueDef(name: QueueName): QueueDef {
  return topology.queues[name];
}

/** Deployed settings that differ from the topology's (from the stack's options). */
export type QueueOverrides = Partial<
  Record<QueueName, { readonly visibilityTimeoutSeconds?: number; readonly retentionDays?: number }>
>;

/**
 * Create the named queues in `scope`, dead-letter queues first. A queue's dead-letter queue must
 * be among `names` (each construct owns a queue together with its DLQ).
 */
export function createTopologyQueues<N extends QueueName>(
  scope: Construct,
  names: readonly N[],
  overrides: QueueOverrides = {},
): Record<N, sqs.Queue> {
  const created = new Map<QueueName, sqs.Queue>();
  const create = (name: QueueName): sqs.Queue => {
    const existing = created.get(name);
    if (existing) return existing;
    const def = { ...queueDef(name), ...overrides[name] };
    let deadLetterQueue: sqs.DeadLetterQueue | undefined;
    if (def.deadLetter) {
      const dlqName = def.deadLetter.queue as QueueName;
      if (!(names as readonly QueueName[]).includes(dlqName)) {
        throw new Error(
          `Queue ${name}: its dead-letter queue ${dlqName} must be created in the same construct`,
        );
      }
      deadLetterQueue = { queue: create(dlqName), maxReceiveCount: def.deadLetter.maxReceiveCount };
    }
    const queue = new sqs.Queue(scope, constructId(name), {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(def.retentionDays),
      ...(deadLetterQueue ? { deadLetterQueue } : {}),
    });
    if (!def.deadLetter) acknowledge(queue, 'AwsSolutions-SQS3', 'deadLetterQueue');
    created.set(name, queue);
    return queue;
  };
  const result = {} as Record<N, sqs.Queue>;
  for (const name of names) result[name] = create(name);
  return result;
}

/** Queues that hold failures: every redrive target, every stream mapping's on-failure destination, the bus targets' DLQ. */
export function deadLetterQueueNames(): QueueName[] {
  const names = new Set<QueueName>(['busTargetDlq']);
  for (const def of Object.values(topology.queues) as QueueDef[]) {
    if (def.deadLetter) names.add(def.deadLetter.queue as QueueName);
  }
  for (const mapping of topology.streamMappings) names.add(mapping.onFailure);
  return [...names];
}
