/**
 * The outbox table (keys, stream, TTL from the topology; PITR; encryption) and the tracked
 * application tables whose streams also feed the publisher.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type TrackedTableMapping, trackedTablesSchema } from '../src/core/trackedTables.js';
import { constructId } from './naming.js';
import { createTopologyTable } from './topologyTables.js';

export interface OutboxTableProps {
  /**
   * What happens to the outbox when it leaves the stack.
   * @default RemovalPolicy.RETAIN (with deletion protection)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Customer-managed key for the outbox. Outbox rows are transient (TTL) application events, so
   * the AWS-managed key is the default: encrypted at rest, key use in CloudTrail, no key fee,
   * and stream readers need no key policy. Pass a key when your data policy requires your own.
   * @default the AWS-managed key `aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Existing application tables whose streams also feed the publisher (each with a stream of
   * new images), with the mapping that turns their changes into events.
   * @default none
   */
  readonly trackedTables?: readonly TrackedTableMapping[];
}

/** A tracked table, imported by name and stream ARN. */
export interface TrackedTable {
  readonly mapping: TrackedTableMapping;
  readonly table: dynamodb.ITable;
}

export class OutboxTable extends Construct {
  readonly table: dynamodb.Table;
  readonly trackedTables: readonly TrackedTable[];
  /** The tracked-table mappings, as the publisher reads them from `TRACKED_TABLES`. */
  readonly trackedTablesJson: string;

  constructor(scope: Construct, id: string, props: OutboxTableProps = {}) {
    super(scope, id);
    this.table = createTopologyTable(this, 'Table', 'outbox', {
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    const mappings = trackedTablesSchema.parse(props.trackedTables ?? []);
    this.trackedTables = mappings.map((mapping) => ({
      mapping,
      table: dynamodb.Table.fromTableAttributes(
        this,
        `Tracked${constructId(mapping.tableName.replace(/[^a-zA-Z0-9]/g, ''))}`,
        {
          tableName: mapping.tableName,
          tableStreamArn: mapping.streamArn,
        },
      ),
    }));
    this.trackedTablesJson = JSON.stringify(mappings);
  }
}
