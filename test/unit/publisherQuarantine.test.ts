import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import {
  QUARANTINE_MAX_RECORD_BYTES,
  type QuarantineEntryInput,
  toQuarantineItem,
} from '../../src/core/quarantine.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const repo = createQuarantineRepository({
  client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  tableName: 'q',
});
const entry: QuarantineEntryInput = {
  reason: 'BAD_JSON',
  message: 'data is not JSON',
  source: 'publisher',
  recordId: 'stream-1',
  recordTime: '2026-11-20T10:00:00.000Z',
  record: { eventID: 'stream-1' },
  origin: 'outbox',
};

beforeEach(() => dynamo.reset());

describe('quarantine', () => {
  it('keys an entry by the record, so quarantining it again overwrites instead of duplicating', () => {
    const first = toQuarantineItem(entry, new Date('2026-11-20T10:00:01Z'));
    const again = toQuarantineItem(entry, new Date('2026-11-20T11:00:00Z'));
    expect([first.pk, first.sk]).toEqual(['Q#2026-11-20', '2026-11-20T10:00:00.000Z#publisher#stream-1']);
    expect([again.pk, again.sk]).toEqual([first.pk, first.sk]);
    expect(first.record).toBe('{"eventID":"stream-1"}');
  });

  it('truncates a record too large for one item and says so', () => {
    const item = toQuarantineItem(
      { ...entry, record: { blob: 'x'.repeat(QUARANTINE_MAX_RECORD_BYTES) } },
      new Date(),
    );
    expect(item.recordTruncated).toBe(true);
    expect(item.record.length).toBe(QUARANTINE_MAX_RECORD_BYTES);
  });

  it('lists day partitions newest first, filtered, up to the limit', async () => {
    const stored = toQuarantineItem(entry, new Date('2026-11-20T10:00:01Z'));
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: input.ExpressionAttributeValues[':pk'] === 'Q#2026-11-19' ? [stored, stored] : [],
    }));
    const { items } = await repo.list({
      since: new Date('2026-11-18T00:00:00Z'),
      until: new Date('2026-11-21T09:00:00Z'),
      reason: 'BAD_JSON',
      limit: 1,
    });
    expect(items).toEqual([stored]);
    const days = dynamo
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':pk']);
    expect(days).toEqual(['Q#2026-11-21', 'Q#2026-11-20', 'Q#2026-11-19']);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      FilterExpression: '#reason = :reason',
      ScanIndexForward: false,
    });
  });

  it('gets and deletes an entry by its id', async () => {
    const stored = toQuarantineItem(entry, new Date('2026-11-20T10:00:01Z'));
    dynamo.on(GetCommand).resolves({ Item: stored });
    dynamo.on(DeleteCommand).resolves({ Attributes: stored });
    dynamo.on(PutCommand).resolves({});
    expect(await repo.get(stored.sk)).toEqual(stored);
    expect(await repo.delete(stored.sk)).toBe(true);
    expect(dynamo.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual({ pk: stored.pk, sk: stored.sk });
  });
});
