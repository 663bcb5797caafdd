/**
 * The audit path: the audit table (both indexes from the topology), the audit queue (a bus rule's
 * target) with its dead-letter queue, and the audit function on it with partial batch responses.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  addQueueMapping,
  consumedQueueVisibilitySeconds,
  type MappingOverrides,
  queueMappingOf,
} from './eventSourceMappings.js';
import { type FunctionSettings, TopologyFunction } from './TopologyFunction.js';
import { createTopologyQueues } from './topologyQueues.js';
import { createTopologyTable } from './topologyTables.js';

export interface AuditLogProps {
  /** Where messages that are not valid envelopes are kept, with the reason. */
  readonly quarantineTable: dynamodb.ITable;
  /** @default RemovalPolicy.RETAIN for the audit table */
  readonly removalPolicy?: RemovalPolicy;
  /** Log retention, tracing. @default see FunctionSettings */
  readonly functionSettings?: FunctionSettings;
  /** Messages per batch. @default the topology's */
  readonly batchSize?: number;
  /** Concurrent batches at most. @default the topology's */
  readonly maxConcurrency?: number;
}

const mapping = queueMappingOf('audit');

export class AuditLog extends Construct {
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: lambda.IFunction;
  readonly handler: TopologyFunction;

  constructor(scope: Construct, id: string, props: AuditLogProps) {
    super(scope, id);
    this.table = createTopologyTable(this, 'Table', 'audit', {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const overrides: MappingOverrides = {
      ...(props.batchSize !== undefined ? { batchSize: props.batchSize } : {}),
      ...(props.maxConcurrency !== undefined ? { maxConcurrency: props.maxConcurrency } : {}),
    };
    const queues = createTopologyQueues(this, ['auditQueue', 'auditDlq'], {
      auditQueue: { visibilityTimeoutSeconds: consumedQueueVisibilitySeconds(mapping, overrides) },
    });
    this.queue = queues.auditQueue;
    this.deadLetterQueue = queues.auditDlq;
    this.handler = new TopologyFunction(this, 'Audit', {
      name: 'audit',
      ...props.functionSettings,
      resources: { tables: { audit: this.table, quarantine: props.quarantineTable }, queues },
    });
    this.function = this.handler.function;
    addQueueMapping(this.function, this.queue, mapping, overrides);
  }
}
