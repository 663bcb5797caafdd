/**
 * Tables built from `topology.tables`: on-demand, point-in-time recovery, encryption, the
 * topology's keys, stream, TTL attribute and global secondary indexes (with the topology's projection).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import {
  type IndexDef,
  type KeyDef,
  type TableDef,
  type TableName,
  topology,
} from '../src/contract/topology.js';

export interface TopologyTableOptions {
  /** What happens to the table when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Customer-managed key. Without one the table uses the AWS-managed key (`aws/dynamodb`): key
   * use appears in CloudTrail, no key fee, and stream readers need no key grant.
   */
  readonly encryptionKey?: kms.IKey;
}

function attribute(key: KeyDef): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}

const STREAM_VIEW: Record<NonNullable<TableDef['stream']>, dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
};

function projectionOf(
  index: IndexDef,
): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL') return { projectionType: dynamodb.ProjectionType.ALL };
  if (projection === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...projection.include] };
}

export function createTopologyTable(
  scope: Construct,
  id: string,
  name: TableName,
  options: TopologyTableOptions,
): dynamodb.Table {
  const def: TableDef = topology.tables[name];
  const table = new dynamodb.Table(scope, id, {
    partitionKey: attribute(def.partitionKey),
    ...(def.sortKey ? { sortKey: attribute(def.sortKey) } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(options.encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: options.encryptionKey }
      : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
    ...(def.stream ? { stream: STREAM_VIEW[def.stream] } : {}),
    ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
    removalPolicy: options.removalPolicy,
    deletionProtection: options.removalPolicy === RemovalPolicy.RETAIN,
  });
  for (const index of def.indexes ?? []) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      ...projectionOf(index),
    });
  }
  return table;
}
