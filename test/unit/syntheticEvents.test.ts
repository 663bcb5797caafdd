/** Synthetic events never throw: every outcome is a value, and every failure is counted. */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRIC } from '../../src/core/metricNames.js';
import { emitSyntheticEvent } from '../../src/producer/index.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const base = { tenantId: 'acme', channel: 'sessions', type: 'session.expired', data: { id: 's1' } };

describe('emitSyntheticEvent', () => {
  let counted: { name: string; status: string }[];
  const options = () => ({
    tableName: 'outbox',
    countFailure: (name: string, status: string) => counted.push({ name, status }),
  });
  beforeEach(() => {
    dynamo.reset();
    counted = [];
  });
  afterEach(() => vi.restoreAllMocks());

  it('appends and says so, counting nothing', async () => {
    dynamo.on(PutCommand).resolves({});
    const result = await emitSyntheticEvent(client, base, options());
    expect(result).toEqual({ status: 'appended', eventId: expect.any(String) });
    expect(counted).toEqual([]);
  });

  it('reports a repeat of the same event as repeat, not a failure', async () => {
    dynamo
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }))
      .on(GetCommand)
      .resolves({ Item: { channel: 'sessions', type: 'session.expired' } });
    const result = await emitSyntheticEvent(client, { ...base, eventId: 'e1' }, options());
    expect(result).toEqual({ status: 'repeat', eventId: 'e1' });
    expect(counted).toEqual([]);
  });

  it('returns refused for an event that can never be written, and counts it', async () => {
    const result = await emitSyntheticEvent(client, { ...base, channel: 'a#b' }, options());
    expect(result.status).toBe('refused');
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
    expect(counted).toEqual([{ name: METRIC.syntheticEventFailures, status: 'refused' }]);
  });

  it('returns failed when the write fails, with the error whole, and counts it', async () => {
    const error = new Error('throttled');
    dynamo.on(PutCommand).rejects(error);
    const result = await emitSyntheticEvent(client, { ...base, eventId: 'e2' }, options());
    expect(result).toEqual({ status: 'failed', eventId: 'e2', error });
    expect(counted).toEqual([{ name: METRIC.syntheticEventFailures, status: 'failed' }]);
  });

  it('does not throw even when counting throws, and writes an embedded metric by default', async () => {
    dynamo.on(PutCommand).rejects(new Error('down'));
    const throwing = {
      tableName: 'outbox',
      countFailure: () => {
        throw new Error('metrics down');
      },
    };
    await expect(emitSyntheticEvent(client, base, throwing)).resolves.toMatchObject({ status: 'failed' });
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await emitSyntheticEvent(client, base, { tableName: 'outbox' });
    const line = JSON.parse(String(log.mock.calls[0]?.[0]));
    expect(line[METRIC.syntheticEventFailures]).toBe(1);
    expect(line._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: METRIC.syntheticEventFailures, Unit: 'Count' },
    ]);
  });
});
