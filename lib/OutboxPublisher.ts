/**
 * The publisher: a function on the outbox stream (and on every tracked table's stream) with the
 * topology's mapping settings — partial batch responses, bisect on error, bounded retries and
 * record age, on-failure destination `publisherDlq` — and the quarantine table where records
 * that cannot become events are kept with their reason.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueName } from '../src/contract/topology.js';
import { TRACKED_TABLES_ENV } from '../src/core/trackedTables.js';
import { addStreamMapping, streamMappingOf } from './eventSourceMappings.js';
import { acknowledge } from './nagSuppressions.js';
import type { OutboxTable } from './OutboxTable.js';
import { Quarantine } from './Quarantine.js';
import { Sequences } from './Sequences.js';
import { type FunctionSettings, TopologyFunction } from './TopologyFunction.js';
import { createTopologyQueues } from './topologyQueues.js';

export interface OutboxPublisherProps {
  readonly outbox: OutboxTable;
  readonly eventBus: events.IEventBus;
  /** The quarantine table. @default a new one (see Quarantine) */
  readonly quarantineTable?: dynamodb.ITable;
  /** The sequences table (per-channel numbers). @default a new one (see Sequences) */
  readonly sequencesTable?: dynamodb.ITable;
  /** @default RemovalPolicy.RETAIN for a quarantine or sequences table created here */
  readonly removalPolicy?: RemovalPolicy;
  /** Log retention, tracing. @default see FunctionSettings */
  readonly functionSettings?: FunctionSettings;
  /** Records per batch. @default the topology's */
  readonly batchSize?: number;
}

const mapping = streamMappingOf('publisher', 'outbox');

export class OutboxPublisher extends Construct {
  readonly function: lambda.IFunction;
  readonly handler: TopologyFunction;
  readonly quarantineTable: dynamodb.ITable;
  readonly sequencesTable: dynamodb.ITable;
  /** On-failure destination of the stream mappings (batch metadata: shard and sequence range). */
  readonly deadLetterQueue: sqs.Queue;
  /** The outbox mapping first, then one per tracked table. */
  readonly eventSources: readonly sources.DynamoEventSource[];

  constructor(scope: Construct, id: string, props: OutboxPublisherProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.quarantineTable =
      props.quarantineTable ?? new Quarantine(this, 'Quarantine', { removalPolicy }).table;
    this.sequencesTable = props.sequencesTable ?? new Sequences(this, 'Sequences', { removalPolicy }).table;
    const dlqName = mapping.onFailure as QueueName;
    const queues = createTopologyQueues(this, [dlqName]);
    this.deadLetterQueue = queues[dlqName];

    this.handler = new TopologyFunction(this, 'Publisher', {
      name: 'publisher',
      ...props.functionSettings,
      resources: {
        // outbox: each event's sequence number is written back to its row.
        tables: {
          quarantine: this.quarantineTable,
          sequences: this.sequencesTable,
          outbox: props.outbox.table,
        },
        queues,
        eventBus: props.eventBus,
      },
      environment: { [TRACKED_TABLES_ENV]: props.outbox.trackedTablesJson },
    });
    this.function = this.handler.function;

    const overrides = props.batchSize !== undefined ? { batchSize: props.batchSize } : {};
    acknowledge(this.handler.role, 'AwsSolutions-IAM5[Resource::*]', 'listStreams');
    this.eventSources = [
      addStreamMapping(this.function, props.outbox.table, mapping, this.deadLetterQueue, overrides),
      // An existing table starts at LATEST: attaching must not republish its last 24 hours. Its
      // updates and deletes are events too, so the outbox's INSERT-only filter does not apply.
      ...props.outbox.trackedTables.map(({ table }) =>
        addStreamMapping(
          this.function,
          table,
          { ...mapping, startingPosition: 'LATEST', filterEventNames: undefined },
          this.deadLetterQueue,
          overrides,
        ),
      ),
    ];
  }
}
