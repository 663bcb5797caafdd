import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { type ForeignItemsReport, keepOwnItems } from '../../src/core/foreignItems.js';
import { DEFAULT_RESUME_SETTINGS, resumeChannel } from '../../src/core/resume.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const dynamo = mockClient(DynamoDBDocumentClient);
beforeEach(() => dynamo.reset());

function repository(reports: ForeignItemsReport[]) {
  return createConnectionsRepository({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 'connections',
    onForeignItems: (report) => reports.push(report),
  });
}

describe('last line of tenant isolation', () => {
  it('keeps only items whose stored tenant and channel are the ones asked for', () => {
    const reports: ForeignItemsReport[] = [];
    const items = [
      { tenantId: 'kv', channel: 'c' },
      { tenantId: 'kv#x', channel: 'c' },
      { tenantId: 'kv', channel: 'x#c' },
    ];
    const kept = keepOwnItems(
      items,
      { tenantId: 'kv', channel: 'c' },
      (i) => i,
      'subscribers',
      (r) => reports.push(r),
    );
    expect(kept).toEqual([{ tenantId: 'kv', channel: 'c' }]);
    expect(reports).toEqual([
      {
        check: 'subscribers',
        asked: { tenantId: 'kv', channel: 'c' },
        dropped: 2,
        sample: { tenantId: 'kv#x', channel: 'c' },
      },
    ]);
    expect(
      keepOwnItems(
        items.slice(0, 1),
        { tenantId: 'kv' },
        (i) => i,
        'connections',
        () => {
          throw new Error('nothing to report');
        },
      ),
    ).toHaveLength(1);
  });

  it('fan-out: drops a subscription item of another tenant that an index query returned', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        { connectionId: 'mine', tenantId: 'kv', channel: 'c' },
        { connectionId: 'forged', tenantId: 'kv#x', channel: 'c' },
      ],
    });
    const reports: ForeignItemsReport[] = [];
    expect(await repository(reports).findSubscribers('kv', 'c', 0)).toEqual(['mine']);
    expect(reports).toMatchObject([{ check: 'subscribers', dropped: 1 }]);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      ExpressionAttributeValues: { ':k': 'SUB#kv#c#0' },
      ProjectionExpression: 'connectionId, tenantId, channel',
    });
  });

  it('connections list and send-close: drop a connection record of another tenant', async () => {
    dynamo.on(QueryCommand).resolves({
      Items: [
        { connectionId: 'mine', tenantId: 'kv' },
        { connectionId: 'other', tenantId: 'kv' },
      ],
    });
    const record = (connectionId: string, tenantId: string) => ({
      connectionId,
      tenantId,
      subject: 's',
      connectedAt: '2026-11-30T00:00:00.000Z',
      expiresAt: 1,
    });
    dynamo.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({
      Item: input.Key.pk === 'CONN#mine' ? record('mine', 'kv') : record('other', 'CONNECTIONS'),
    }));
    const reports: ForeignItemsReport[] = [];
    const listed = await repository(reports).listConnections('kv');
    // One shard query answered both ids for every shard: eight copies of each, all but the own dropped.
    expect(new Set(listed.map((c) => c.connectionId))).toEqual(new Set(['mine']));
    expect(listed.every((c) => c.tenantId === 'kv')).toBe(true);
    expect(reports.some((r) => r.check === 'connections' && r.sample.tenantId === 'CONNECTIONS')).toBe(true);
  });

  it('resume: never replays an event of another tenant or channel the history query returned', async () => {
    const since = envelopeFactory({ tenantId: 'kv', channel: 'c', time: '2026-11-30T00:00:00.000Z' });
    const own = envelopeFactory({ tenantId: 'kv', channel: 'c', time: '2026-11-30T00:00:01.000Z' });
    const foreign = envelopeFactory({
      tenantId: 'CONNECTIONS',
      channel: 'c',
      time: '2026-11-30T00:00:02.000Z',
    });
    const reports: ForeignItemsReport[] = [];
    const outcome = await resumeChannel(
      'kv',
      'c',
      since.id,
      {
        getEvent: async (tenantId, id) => (tenantId === 'kv' && id === since.id ? since : undefined),
        queryChannel: async () => ({ events: [since, own, foreign] }),
        currentEpoch: async () => 'e1',
        querySeq: async () => ({ items: [], more: false }),
        onForeignItems: (report) => reports.push(report),
      },
      DEFAULT_RESUME_SETTINGS,
    );
    const replayed = outcome.messages.flatMap((m) => {
      const frame = JSON.parse(m) as { type: string; events?: { id: string }[]; event?: { id: string } };
      return frame.events ?? (frame.event ? [frame.event] : []);
    });
    expect(replayed.map((e) => e.id)).toEqual([own.id]);
    expect(reports).toMatchObject([{ check: 'resume', dropped: 1, sample: { tenantId: 'CONNECTIONS' } }]);
  });
});
