/**
 * Event source mappings with every setting of `topology.streamMappings` / `topology.queueMappings`.
 * The only deviation is Lambda's own rule for SQS: a batch size above 10 needs a batching window
 * of at least 1 s, so such a mapping gets max(window, 1 s) — `deployedQueueMapping` says so, and
 * the topology test checks the template against it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { type QueueMappingDef, type StreamMappingDef, topology } from '../src/contract/topology.js';
import { SQS_UNWINDOWED_MAX_BATCH_SIZE } from './config.js';
import { requiredVisibilitySeconds } from './nag/invariants.js';

export interface MappingOverrides {
  /** @default the topology's batch size */
  readonly batchSize?: number;
  /** @default the topology's batching window */
  readonly batchingWindowSeconds?: number;
  /** @default the topology's maximum concurrency */
  readonly maxConcurrency?: number;
}

/** The settings an SQS mapping is deployed with. */
export function deployedQueueMapping(
  def: QueueMappingDef,
  overrides: MappingOverrides = {},
): { batchSize: number; maxBatchingWindowSeconds: number; maxConcurrency: number } {
  const batchSize = overrides.batchSize ?? def.batchSize;
  const window = overrides.batchingWindowSeconds ?? def.maxBatchingWindowSeconds;
  return {
    batchSize,
    maxBatchingWindowSeconds: batchSize > SQS_UNWINDOWED_MAX_BATCH_SIZE ? Math.max(window, 1) : window,
    maxConcurrency: overrides.maxConcurrency ?? def.maxConcurrency,
  };
}

/**
 * The visibility timeout a consumed queue is deployed with: the topology's, raised when the
 * deployed batching window needs more (6 x the consumer's timeout + the window).
 */
export function consumedQueueVisibilitySeconds(
  def: QueueMappingDef,
  overrides: MappingOverrides = {},
): number {
  const window = deployedQueueMapping(def, overrides).maxBatchingWindowSeconds;
  const timeout = topology.functions[def.function as keyof typeof topology.functions].timeoutSeconds;
  const queue = topology.queues[def.queue as keyof typeof topology.queues];
  return Math.max(queue.visibilityTimeoutSeconds, requiredVisibilitySeconds(timeout, window));
}

export function addQueueMapping(
  fn: lambda.IFunction,
  queue: sqs.IQueue,
  def: QueueMappingDef,
  overrides: MappingOverrides = {},
): sources.SqsEventSource {
  const settings = deployedQueueMapping(def, overrides);
  const source = new sources.SqsEventSource(queue, {
    batchSize: settings.batchSize,
    maxBatchingWindow: Duration.seconds(settings.maxBatchingWindowSeconds),
    reportBatchItemFailures: def.reportBatchItemFailures,
    maxConcurrency: settings.maxConcurrency,
  });
  fn.addEventSource(source);
  return source;
}

const STARTING_POSITION: Record<StreamMappingDef['startingPosition'], lambda.StartingPosition> = {
  TRIM_HORIZON: lambda.StartingPosition.TRIM_HORIZON,
  LATEST: lambda.StartingPosition.LATEST,
};

export function addStreamMapping(
  fn: lambda.IFunction,
  table: dynamodb.ITable,
  def: StreamMappingDef,
  onFailure: sqs.IQueue,
  overrides: Pick<MappingOverrides, 'batchSize'> = {},
): sources.DynamoEventSource {
  const source = new sources.DynamoEventSource(table, {
    startingPosition: STARTING_POSITION[def.startingPosition],
    batchSize: overrides.batchSize ?? def.batchSize,
    maxBatchingWindow: Duration.seconds(def.maxBatchingWindowSeconds),
    parallelizationFactor: def.parallelizationFactor,
    bisectBatchOnError: def.bisectBatchOnError,
    retryAttempts: def.maxRetryAttempts,
    maxRecordAge: Duration.seconds(def.maxRecordAgeSeconds),
    reportBatchItemFailures: def.reportBatchItemFailures,
    onFailure: new sources.SqsDlq(onFailure),
    ...(def.filterEventNames
      ? {
          filters: [
            lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or(...def.filterEventNames) }),
          ],
        }
      : {}),
  });
  fn.addEventSource(source);
  return source;
}

/** The topology's SQS mapping for a function (throws if the topology has none). */
export function queueMappingOf(fn: string): QueueMappingDef {
  const def = (topology.queueMappings as readonly QueueMappingDef[]).find((m) => m.function === fn);
  if (!def) throw new Error(`topology.queueMappings has no mapping for function ${fn}`);
  return def;
}

/** The topology's stream mapping of a function on a table (throws if the topology has none). */
export function streamMappingOf(fn: string, table: string): StreamMappingDef {
  const def = (topology.streamMappings as readonly StreamMappingDef[]).find(
    (m) => m.function === fn && m.table === table,
  );
  if (!def) throw new Error(`topology.streamMappings has no mapping for function ${fn} on table ${table}`);
  return def;
}
