/**
 * The one module that reads and writes the connections table (`topology.tables.connections`).
 *
 * | item         | pk                | sk               | `subscriptionKey` (index bySubscription) |
 * | ------------ | ----------------- | ---------------- | ---------------------------------------- |
 * | connection   | `CONN#<id>`       | `META`           | `CONN#<tenant>#<shard>`                  |
 * | subscription | `CONN#<id>`       | `SUB#<channel>`  | `SUB#<tenant>#<channel>#<shard>`         |
 *
 * Every key is built with the key codec (src/core/keyCodec.ts), so names cannot forge keys; and
 * what an index query returns is checked against the stored tenant/channel before it is used
 * (src/core/foreignItems.ts): a mismatch is dropped and reported, never delivered.
 *
 * All items of a connection share its partition, so `$disconnect` deletes them with one query;
 * subscribers of a channel are found with SUBSCRIPTION_SHARDS parallel index queries, never a scan.
 * Every item carries `expiresAt` (TTL) past API Gateway's 2-hour connection limit, so records of
 * connections that vanished without `$disconnect` disappear even if no fan-out ever hits a 410.
 */
import type { QueryCommandInput, ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { topology } from '../contract/topology.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { type ForeignItemsSink, keepOwnItems } from '../core/foreignItems.js';
import { decodeKey, encodeKey, keyPrefix } from '../core/keyCodec.js';
import { WEBSOCKET_MAX_CONNECTION_SECONDS } from '../core/limits.js';
import {
  SUBSCRIPTION_SHARDS,
  shardOf,
  subscriptionKey,
  subscriptionKeysOf,
  tenantConnectionsKey,
} from '../core/subscriptions.js';
import { type BatchWriteRequest, batchGetAll, batchWriteAll } from './batchCalls.js';
import { requireEnv } from './env.js';
import { reportForeignItems } from './foreignItems.js';
import {
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from './sdk/dynamo.js';

export const CONNECTIONS_INDEX_BY_SUBSCRIPTION = 'bySubscription';
/** Records outlive API Gateway's 2-hour limit by this margin before DynamoDB TTL removes them. */
export const CONNECTION_TTL_MARGIN_SECONDS = 15 * 60;

export const connectionRecordSchema = z.object({
  connectionId: z.string(),
  tenantId: z.string(),
  subject: z.string(),
  /** Channels the token allows; absent = any channel of the tenant. */
  allowedChannels: z.optional(z.array(z.string())),
  connectedAt: z.string(),
  expiresAt: z.number().check(z.int()),
});
export type ConnectionRecord = z.infer<typeof connectionRecordSchema>;

export interface ConnectionsRepository {
  putConnection(record: ConnectionRecord): Promise<void>;
  getConnection(connectionId: string): Promise<ConnectionRecord | undefined>;
  addSubscriptions(
    connectionId: string,
    tenantId: string,
    channels: readonly string[],
    expiresAt: number,
  ): Promise<void>;
  removeSubscriptions(connectionId: string, channels: readonly string[]): Promise<void>;
  /** Delete the connection and all its subscriptions; returns how many items were deleted. */
  deleteConnection(connectionId: string): Promise<number>;
  /** Connection ids subscribed to a tenant's channel (parallel queries over the shards, or one shard's query). */
  findSubscribers(tenantId: string, channel: string, shard?: number): Promise<string[]>;
  /** Connection ids of one tenant (index query), or of all tenants (a scan: operator commands only). */
  listConnections(tenantId?: string): Promise<ConnectionRecord[]>;
  /** Channels a connection is subscribed to (operator commands). */
  listSubscriptions(connectionId: string): Promise<string[]>;
  /** Whether the connection holds a subscription to the channel (one strongly consistent read). */
  isSubscribed(connectionId: string, channel: string): Promise<boolean>;
  /**
   * The subject (token `sub`) of each connection that still has a record, read 100 at a time
   * (fan-out's per-subject audit records); connections without a record are absent.
   */
  subjectsOf(connectionIds: readonly string[]): Promise<Map<string, { tenantId: string; subject: string }>>;
  /** How many connection records a tenant has (the per-tenant connection quota; not yet expired ones included). */
  countConnections(tenantId: string): Promise<number>;
}

export interface ConnectionsRepositoryDeps {
  readonly client: DocumentClientLike;
  readonly tableName: string;
  /** Told about index items whose stored tenant/channel differ from the query's (dropped). */
  readonly onForeignItems?: ForeignItemsSink;
}

export function connectionTtl(nowMs: number): number {
  return Math.floor(nowMs / 1000) + WEBSOCKET_MAX_CONNECTION_SECONDS + CONNECTION_TTL_MARGIN_SECONDS;
}

const pkOf = (connectionId: string): string => encodeKey(['CONN', connectionId]);
const META = 'META';
const subSk = (channel: string): string => encodeKey(['SUB', channel]);
const SUB_PREFIX = keyPrefix(['SUB']);

export function createConnectionsRepository({
  client: clientLike,
  tableName,
  onForeignItems,
}: ConnectionsRepositoryDeps): ConnectionsRepository {
  const client = documentSender(clientLike);
  // A constant, not an option: fan-out chunks (src/core/fanoutChunk.ts) shard connections the same way.
  const shards = SUBSCRIPTION_SHARDS;
  const batchWrite = (requests: readonly BatchWriteRequest[]) => batchWriteAll(client, tableName, requests);

  /** Every item of a query or scan, page by page. */
  async function allItems(
    input:
      | (Omit<QueryCommandInput, 'TableName'> & { scan?: false })
      | (Omit<ScanCommandInput, 'TableName'> & { scan: true }),
  ): Promise<Record<string, unknown>[]> {
    const { scan, ...rest } = input;
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const request = { ...rest, TableName: tableName, ExclusiveStartKey: start };
      const page = await client.send(scan ? new ScanCommand(request) : new QueryCommand(request));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  const stringsOf = (items: Record<string, unknown>[], attribute: string): string[] =>
    items.flatMap((item) => (typeof item[attribute] === 'string' ? [item[attribute]] : []));

  /**
   * Connection ids under one index key, keeping only items whose stored tenant (and channel, for
   * subscriptions) are the ones asked for.
   */
  async function queryIndexConnectionIds(
    key: string,
    asked: { tenantId: string; channel?: string },
  ): Promise<string[]> {
    const items = await allItems({
      IndexName: CONNECTIONS_INDEX_BY_SUBSCRIPTION,
      KeyConditionExpression: 'subscriptionKey = :k',
      ExpressionAttributeValues: { ':k': key },
      ProjectionExpression: 'connectionId, tenantId, channel',
    });
    const own = keepOwnItems(
      items,
      asked,
      (item) => ({
        tenantId: item.tenantId,
        ...(asked.channel !== undefined ? { channel: item.channel } : {}),
      }),
      asked.channel !== undefined ? 'subscribers' : 'connections',
      onForeignItems,
    );
    return stringsOf(own, 'connectionId');
  }

  return {
    async putConnection(record) {
      const parsed = connectionRecordSchema.parse(record);
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: pkOf(parsed.connectionId),
            sk: META,
            subscriptionKey: tenantConnectionsKey(parsed.tenantId, shardOf(parsed.connectionId, shards)),
            ...parsed,
          },
        }),
      );
    },

    async getConnection(connectionId) {
      const result = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: pkOf(connectionId), sk: META } }),
      );
      if (!result.Item) return undefined;
      return connectionRecordSchema.parse(result.Item);
    },

    async addSubscriptions(connectionId, tenantId, channels, expiresAt) {
      const shard = shardOf(connectionId, shards);
      await batchWrite(
        channels.map((channel) => ({
          PutRequest: {
            Item: {
              pk: pkOf(connectionId),
              sk: subSk(channel),
              subscriptionKey: subscriptionKey(tenantId, channel, shard),
              connectionId,
              tenantId,
              channel,
              expiresAt,
            },
          },
        })),
      );
    },

    async removeSubscriptions(connectionId, channels) {
      await batchWrite(
        channels.map((channel) => ({
          DeleteRequest: { Key: { pk: pkOf(connectionId), sk: subSk(channel) } },
        })),
      );
    },

    async deleteConnection(connectionId) {
      const items = await allItems({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pkOf(connectionId) },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      });
      const keys = items.map((item) => ({ pk: item.pk, sk: item.sk }));
      await batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
      return keys.length;
    },

    async findSubscribers(tenantId, channel, shard) {
      const asked = { tenantId, channel };
      if (shard !== undefined)
        return queryIndexConnectionIds(subscriptionKey(tenantId, channel, shard), asked);
      const perShard = await mapWithConcurrency(
        subscriptionKeysOf(tenantId, channel, shards),
        shards,
        (key) => queryIndexConnectionIds(key, asked),
      );
      return [...new Set(perShard.flat())];
    },

    async listConnections(tenantId) {
      const ids: string[] = [];
      if (tenantId !== undefined) {
        const keys = Array.from({ length: shards }, (_, shard) => tenantConnectionsKey(tenantId, shard));
        ids.push(
          ...(
            await mapWithConcurrency(keys, shards, (key) => queryIndexConnectionIds(key, { tenantId }))
          ).flat(),
        );
      } else {
        const items = await allItems({
          scan: true,
          FilterExpression: 'sk = :meta',
          ExpressionAttributeValues: { ':meta': META },
          ProjectionExpression: 'connectionId',
        });
        ids.push(...stringsOf(items, 'connectionId'));
      }
      const records = await mapWithConcurrency(ids, 16, (id) => this.getConnection(id));
      const found = records.filter((r): r is ConnectionRecord => r !== undefined);
      // The index item and the record are read separately: check the record's tenant too.
      return tenantId === undefined
        ? found
        : keepOwnItems(found, { tenantId }, (r) => ({ tenantId: r.tenantId }), 'connections', onForeignItems);
    },

    async subjectsOf(connectionIds) {
      const found = new Map<string, { tenantId: string; subject: string }>();
      const keys = [...new Set(connectionIds)].map((id) => ({ pk: pkOf(id), sk: META }));
      const items = await batchGetAll(client, tableName, keys, {
        projection: 'connectionId, tenantId, subject',
      });
      for (const { connectionId, tenantId, subject } of items) {
        if (typeof connectionId === 'string' && typeof tenantId === 'string' && typeof subject === 'string')
          found.set(connectionId, { tenantId, subject });
      }
      return found;
    },

    async countConnections(tenantId) {
      const keys = Array.from({ length: shards }, (_, shard) => tenantConnectionsKey(tenantId, shard));
      const perShard = await mapWithConcurrency(keys, shards, (key) =>
        queryIndexConnectionIds(key, { tenantId }),
      );
      return perShard.reduce((sum, ids) => sum + ids.length, 0);
    },

    async listSubscriptions(connectionId) {
      const items = await allItems({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        ExpressionAttributeValues: { ':pk': pkOf(connectionId), ':sub': SUB_PREFIX },
        ProjectionExpression: 'sk',
      });
      return stringsOf(items, 'sk').map((sk) => decodeKey(sk)[1] ?? '');
    },

    async isSubscribed(connectionId, channel) {
      const result = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: pkOf(connectionId), sk: subSk(channel) },
          ConsistentRead: true,
          ProjectionExpression: 'pk',
        }),
      );
      return result.Item !== undefined;
    },
  };
}

let fromEnvTable: string | undefined;
let fromEnv: ConnectionsRepository | undefined;

/** The repository for the table named by `CONNECTIONS_TABLE`, on the shared document client. */
export function getConnectionsRepository(): ConnectionsRepository {
  const tableName = requireEnv(topology.tables.connections.env);
  if (!fromEnv || fromEnvTable !== tableName) {
    fromEnv = createConnectionsRepository({
      client: getDocumentSender(),
      tableName,
      onForeignItems: reportForeignItems,
    });
    fromEnvTable = tableName;
  }
  return fromEnv;
}
