/**
 * The outbox table (keys, stream, TTL from the topology; PITR; encryption) — or one the app brings
 * (`existingTable`) — and the tracked application tables whose streams also feed the publisher.
 */
import { RemovalPolicy, Tokenization } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { topology } from '../src/contract/topology.js';
import { type TrackedTableMapping, trackedTablesSchema } from '../src/core/trackedTables.js';
import { constructId } from './naming.js';
import { createTopologyTable } from './topologyTables.js';

/** A table given to the construct cannot serve as the outbox (no stream, wrong keys or stream view). */
export class ExistingResourceError extends Error {
  override readonly name = 'ExistingResourceError';
}

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
  /**
   * An outbox table the app already has (Solutions Constructs' `existing…` convention): no table
   * is created, and the functions are granted on this one. It needs a stream with new images
   * (`NEW_IMAGE` or `NEW_AND_OLD_IMAGES`), partition key `pk` and sort key `sk` (strings) and TTL
   * on `expiresAt`; an imported table must be imported with its stream ARN
   * (`Table.fromTableAttributes({ tableName, tableStreamArn })`). `removalPolicy` and
   * `encryptionKey` do not apply to it.
   * @default a new table
   */
  readonly existingTable?: dynamodb.ITable;
}

/** A tracked table, imported by name and stream ARN. */
export interface TrackedTable {
  readonly mapping: TrackedTableMapping;
  readonly table: dynamodb.ITable;
}

export class OutboxTable extends Construct {
  readonly table: dynamodb.ITable;
  /** True when the table was given (`existingTable`), not created here. */
  readonly existing: boolean;
  readonly trackedTables: readonly TrackedTable[];
  /** The tracked-table mappings, as the publisher reads them from `TRACKED_TABLES`. */
  readonly trackedTablesJson: string;

  constructor(scope: Construct, id: string, props: OutboxTableProps = {}) {
    super(scope, id);
    this.existing = props.existingTable !== undefined;
    this.table = props.existingTable
      ? checkedOutboxTable(props.existingTable)
      : createTopologyTable(this, 'Table', 'outbox', {
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

const outboxDef = topology.tables.outbox;

/**
 * The publisher reads the outbox's stream (new images, INSERTs) and writes back by `pk`/`sk`: a
 * given table without a stream cannot work, and one defined in this app (not imported) is checked
 * for its keys and stream view too.
 */
function checkedOutboxTable(table: dynamodb.ITable): dynamodb.ITable {
  const name = table.node.path;
  if (table.tableStreamArn === undefined) {
    throw new ExistingResourceError(
      `existingOutboxTable ${name} has no stream: the publisher reads the outbox's stream. Enable a stream with new images (stream: StreamViewType.NEW_IMAGE) or, for an imported table, import it with its stream ARN (Table.fromTableAttributes({ tableName, tableStreamArn })).`,
    );
  }
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof dynamodb.CfnTable)) return table; // imported: its keys cannot be read at synth
  const problems: string[] = [];
  const keys = Tokenization.reverse(cfn.keySchema) === undefined ? cfn.keySchema : undefined;
  if (Array.isArray(keys)) {
    const keyNamed = (type: 'HASH' | 'RANGE') =>
      (keys as dynamodb.CfnTable.KeySchemaProperty[]).find((key) => key.keyType === type)?.attributeName;
    const expected = { HASH: outboxDef.partitionKey.name, RANGE: outboxDef.sortKey.name } as const;
    for (const type of ['HASH', 'RANGE'] as const) {
      if (keyNamed(type) !== expected[type])
        problems.push(
          `its ${type === 'HASH' ? 'partition' : 'sort'} key is ${keyNamed(type) ?? 'missing'}, not ${expected[type]}`,
        );
    }
  }
  const stream = cfn.streamSpecification;
  const view =
    stream !== undefined && Tokenization.reverse(stream) === undefined
      ? (stream as dynamodb.CfnTable.StreamSpecificationProperty).streamViewType
      : undefined;
  if (view !== undefined && view !== 'NEW_IMAGE' && view !== 'NEW_AND_OLD_IMAGES') {
    problems.push(`its stream carries ${view}, not the new image (NEW_IMAGE or NEW_AND_OLD_IMAGES)`);
  }
  if (problems.length > 0) {
    throw new ExistingResourceError(
      `existingOutboxTable ${name} cannot be the outbox: ${problems.join('; ')}`,
    );
  }
  return table;
}
