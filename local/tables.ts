/**
 * Creates every table of `topology.tables` in DynamoDB Local, idempotently (a persisted run finds
 * them already there): keys, GSIs (with the topology's projection, as deployed), the stream, and TTL.
 * An index the topology gained since a persisted run created the table is added to it.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type Projection,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type IndexDef, type TableDef, topology } from '../src/contract/topology.js';
import { localTableName } from './resourceNames.js';

export interface LocalTable {
  readonly key: string;
  readonly name: string;
  /** Present when the table has a stream. */
  readonly streamArn?: string;
}

export async function createTables(
  client: DynamoDBClient,
  tables: Readonly<Record<string, TableDef>> = topology.tables,
): Promise<Record<string, LocalTable>> {
  const created = await Promise.all(
    Object.entries(tables).map(async ([key, def]) => [key, await createTable(client, key, def)] as const),
  );
  return Object.fromEntries(created);
}

function projectionOf(index: IndexDef): Projection {
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL' || projection === 'KEYS_ONLY') return { ProjectionType: projection };
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] };
}

async function createTable(client: DynamoDBClient, key: string, def: TableDef): Promise<LocalTable> {
  const name = localTableName(key);
  const attributes = new Map<string, AttributeDefinition>();
  const addAttribute = (k: { name: string; type: 'S' | 'N' }) =>
    attributes.set(k.name, { AttributeName: k.name, AttributeType: k.type });
  addAttribute(def.partitionKey);
  if (def.sortKey) addAttribute(def.sortKey);
  for (const index of def.indexes ?? []) {
    addAttribute(index.partitionKey);
    if (index.sortKey) addAttribute(index.sortKey);
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes.values()],
        KeySchema: [
          { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
          ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' as const }] : []),
        ],
        ...(def.indexes && def.indexes.length > 0
          ? {
              GlobalSecondaryIndexes: def.indexes.map((index) => ({
                IndexName: index.name,
                KeySchema: [
                  { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
                  ...(index.sortKey
                    ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }]
                    : []),
                ],
                Projection: projectionOf(index),
              })),
            }
          : {}),
        ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream } } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  if (def.ttlAttribute) await enableTtl(client, name, def.ttlAttribute);
  let described = await client.send(new DescribeTableCommand({ TableName: name }));
  // A table persisted by an older version lacks the indexes added since: add them (one per update, as DynamoDB asks).
  const present = new Set((described.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = (def.indexes ?? []).filter((index) => !present.has(index.name));
  for (const index of missing) {
    await client.send(
      new UpdateTableCommand({
        TableName: name,
        AttributeDefinitions: [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])].map((k) => ({
          AttributeName: k.name,
          AttributeType: k.type,
        })),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
              ],
              Projection: projectionOf(index),
            },
          },
        ],
      }),
    );
  }
  if (missing.length > 0) described = await client.send(new DescribeTableCommand({ TableName: name }));
  const streamArn = described.Table?.LatestStreamArn;
  return { key, name, ...(streamArn ? { streamArn } : {}) };
}

async function enableTtl(client: DynamoDBClient, tableName: string, attribute: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // A persisted table already has TTL on ("TimeToLive is already enabled"): nothing to do.
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  }
}
