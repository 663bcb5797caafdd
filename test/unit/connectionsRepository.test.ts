/** The connections table's repository, against a mocked DynamoDB document client. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { SUBSCRIPTION_SHARDS, subscriptionKeysOf } from '../../src/core/subscriptions.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const TABLE = 'connections';

beforeEach(() => dynamo.reset());
afterAll(() => dynamo.restore());

describe('connections repository', () => {
  it('deletes a connection and all its items page by page, re-sending what DynamoDB left unprocessed', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => ({ pk: 'CONN#c1', sk: `SUB#${i}` }));
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: keys.slice(0, 20), LastEvaluatedKey: keys[19] })
      .resolvesOnce({ Items: keys.slice(20) });
    const leftOver = keys.slice(0, 2).map((Key) => ({ DeleteRequest: { Key } }));
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: leftOver } })
      .resolves({});
    const repository = createConnectionsRepository({ client, tableName: TABLE });

    expect(await repository.deleteConnection('c1')).toBe(30);

    const deleted = dynamo
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[TABLE] ?? [])
      .map((request) => request.DeleteRequest?.Key?.sk);
    // 25 + 5 in the first pass (BatchWrite's limit), then the 2 left over once more.
    expect(
      dynamo.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.[TABLE]?.length),
    ).toEqual([25, 2, 5]);
    expect(new Set(deleted)).toEqual(new Set(keys.map((k) => k.sk)));
  });

  it('finds subscribers on every shard of the channel, once each, and drops items of another tenant or channel', async () => {
    const dropped: unknown[] = [];
    const repository = createConnectionsRepository({
      client,
      tableName: TABLE,
      onForeignItems: (report) => dropped.push(report),
    });
    const [first, second] = subscriptionKeysOf('t1', 'orders', SUBSCRIPTION_SHARDS);
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => {
      const key = input.ExpressionAttributeValues[':k'];
      if (key === first)
        return {
          Items: [
            { connectionId: 'a', tenantId: 't1', channel: 'orders' },
            { connectionId: 'x', tenantId: 't2', channel: 'orders' },
          ],
        };
      if (key === second)
        return {
          Items: [
            { connectionId: 'a', tenantId: 't1', channel: 'orders' },
            { connectionId: 'b', tenantId: 't1', channel: 'orders' },
          ],
        };
      return { Items: [] };
    });

    const found = await repository.findSubscribers('t1', 'orders');

    expect(found.sort()).toEqual(['a', 'b']);
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(SUBSCRIPTION_SHARDS);
    expect(dropped).toHaveLength(1);
  });

  it('reads one shard only when asked for one', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [{ connectionId: 'a', tenantId: 't1', channel: 'orders' }] });
    const repository = createConnectionsRepository({ client, tableName: TABLE });
    expect(await repository.findSubscribers('t1', 'orders', 3)).toEqual(['a']);
    const calls = dynamo.commandCalls(QueryCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.ExpressionAttributeValues?.[':k']).toBe(
      subscriptionKeysOf('t1', 'orders', SUBSCRIPTION_SHARDS)[3],
    );
  });
});
