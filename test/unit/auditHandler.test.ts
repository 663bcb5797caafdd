import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import { busEventBody, envelopeFactory, sqsRecordFactory } from './publisherFactories.js';

const dynamo = mockClient(DynamoDBDocumentClient);
let handler: (event: unknown) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AUDIT_TABLE', 'test-audit');
  vi.stubEnv('QUARANTINE_TABLE', 'test-quarantine');
  ({ handler } = await import('../../lambdas/audit/handler.js'));
});
beforeEach(() => dynamo.reset());

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });

function putsTo(table: string) {
  return dynamo
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.TableName === table);
}

describe('audit repository', () => {
  const repo = createAuditRepository({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 't',
  });

  it('records an event once: the put is conditional and an existing record is success', async () => {
    const envelope = envelopeFactory({ tenantId: 't1', channel: 'c', resourceId: 'r1' });
    dynamo.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await repo.recordEvent(envelope)).toEqual({ recorded: true });
    const [first] = dynamo.commandCalls(PutCommand).map((c) => c.args[0].input);
    dynamo.on(GetCommand).resolves({ Item: first?.Item });
    expect(await repo.recordEvent(envelope)).toEqual({ recorded: false });
    expect(first).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        pk: `EVT#t1#${envelope.id}`,
        tenantId: 't1',
        sk: 'EVENT',
        channelKey: 't1#c',
        resourceKey: 't1#r1',
        position: envelope.position,
        envelope,
      },
    });
  });

  it('reports a reuse of the id by a different event of the tenant as a conflict, not a repeat', async () => {
    const first = envelopeFactory({ tenantId: 't1', channel: 'c1' });
    const second = { ...first, channel: 'c2' };
    dynamo.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await repo.recordEvent(first);
    dynamo.on(GetCommand).resolves({ Item: dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item });
    expect(await repo.recordEvent(second)).toEqual({
      recorded: false,
      conflict: { channel: 'c1', type: first.type },
    });
  });

  it('reads the stored record from the failed condition itself when the store returns it (no extra read)', async () => {
    const first = envelopeFactory({ tenantId: 't1', channel: 'c1' });
    dynamo.on(PutCommand).resolvesOnce({});
    await repo.recordEvent(first);
    const stored = dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    dynamo
      .on(PutCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(stored) }),
      );
    expect(await repo.recordEvent({ ...first, channel: 'c2' })).toEqual({
      recorded: false,
      conflict: { channel: 'c1', type: first.type },
    });
    expect(await repo.recordEvent(first)).toEqual({ recorded: false });
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('keys the same event id of two tenants apart', async () => {
    dynamo.on(PutCommand).resolves({});
    const a = envelopeFactory({ tenantId: 'ta', id: 'same' });
    const b = envelopeFactory({ tenantId: 'tb', id: 'same' });
    await repo.recordEvent(a);
    await repo.recordEvent(b);
    const keys = dynamo.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.pk);
    expect(keys).toEqual(['EVT#ta#same', 'EVT#tb#same']);
  });

  it('drops channel history items whose stored tenant or channel is not the one asked for', async () => {
    const own = envelopeFactory({ tenantId: 't1', channel: 'c' });
    const foreign = envelopeFactory({ tenantId: 'forged', channel: 'c' });
    const item = (e: typeof own) => ({
      pk: `EVT#${e.tenantId}#${e.id}`,
      sk: 'EVENT',
      kind: 'event',
      eventId: e.id,
      channelKey: 't1#c',
      position: e.position,
      envelope: e,
      recordedAt: '2026-11-20T10:00:01.000Z',
    });
    dynamo.on(QueryCommand).resolves({ Items: [item(foreign), item(own)] });
    const reports: unknown[] = [];
    const guarded = createAuditRepository({
      client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      tableName: 't',
      onForeignItems: (report) => reports.push(report),
    });
    const page = await guarded.queryChannel('t1', 'c', { limit: 10, ascending: true });
    expect(page.events).toEqual([own]);
    expect(reports).toEqual([
      {
        check: 'channelHistory',
        asked: { tenantId: 't1', channel: 'c' },
        dropped: 1,
        sample: { tenantId: 'forged', channel: 'c' },
      },
    ]);
  });

  it('leaves the resource index key out when the event has no resource', async () => {
    dynamo.on(PutCommand).resolves({});
    await repo.recordEvent(envelopeFactory({ resourceId: null }));
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item).not.toHaveProperty('resourceKey');
  });

  it('queries a channel after a position on index byChannel, and returns the next cursor', async () => {
    const events = [
      envelopeFactory({ tenantId: 't1', channel: 'c' }),
      envelopeFactory({ tenantId: 't1', channel: 'c' }),
    ];
    dynamo.on(QueryCommand).resolves({
      Items: events.map((e) => ({
        pk: `EVT#${e.id}`,
        sk: 'EVENT',
        kind: 'event',
        eventId: e.id,
        channelKey: 't1#c',
        position: e.position,
        envelope: e,
        recordedAt: '2026-11-20T10:00:01.000Z',
      })),
      LastEvaluatedKey: { pk: 'x' },
    });
    const page = await repo.queryChannel('t1', 'c', { afterPosition: 'P0', limit: 2, ascending: true });
    expect(page.events).toEqual(events);
    expect(page.nextPosition).toBe(events[1]?.position);
    expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'byChannel',
      KeyConditionExpression: 'channelKey = :p AND #position > :after',
      ExpressionAttributeValues: { ':p': 't1#c', ':after': 'P0' },
      ScanIndexForward: true,
      Limit: 2,
    });
  });

  it('records delivery attempts under the event, sorted by path and time', async () => {
    dynamo.on(PutCommand).resolves({});
    const item = await repo.recordAttempt('t1', 'e1', {
      path: 'webhook',
      target: 'ep-1',
      outcome: 'failed',
      statusCode: 503,
      durationMs: 120,
      attempt: 2,
      nextAttemptAt: '2026-11-20T10:05:00.000Z',
      at: '2026-11-20T10:00:00.000Z',
    });
    expect(item).toMatchObject({
      pk: 'EVT#t1#e1',
      sk: 'ATTEMPT#webhook#2026-11-20T10:00:00.000Z#ep-1#2',
      tenantId: 't1',
      kind: 'attempt',
    });
  });
});

describe('audit repository: many attempts at once', () => {
  const repo = createAuditRepository({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 't',
  });
  const attemptOf = (eventId: string) => ({
    tenantId: 't1',
    eventId,
    attempt: {
      path: 'websocket' as const,
      target: 'fanout',
      outcome: 'delivered' as const,
      durationMs: 3,
      attempt: 1,
      at: '2026-11-20T10:00:00.000Z',
    },
  });

  it('writes 60 attempts in requests of at most 25, re-sending what the store left unprocessed', async () => {
    let calls = 0;
    dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      calls += 1;
      const requests = input.RequestItems.t ?? [];
      // The first request comes back with its last item unprocessed.
      return calls === 1 ? { UnprocessedItems: { t: requests.slice(-1) } } : {};
    });
    await repo.recordAttempts(Array.from({ length: 60 }, (_, i) => attemptOf(`e${i}`)));
    const sent = dynamo.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.t ?? []);
    expect(sent.every((requests) => requests.length <= 25)).toBe(true);
    const keys = sent.flat().map((r) => (r as { PutRequest: { Item: { pk: string } } }).PutRequest.Item.pk);
    expect(new Set(keys).size).toBe(60);
    expect(keys).toHaveLength(61); // the unprocessed one, twice
  });

  it('sends one item per key when the same attempt is given twice (a request may not name a key twice)', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    await repo.recordAttempts([attemptOf('e1'), attemptOf('e1'), attemptOf('e2')]);
    const [requests] = dynamo
      .commandCalls(BatchWriteCommand)
      .map((c) => c.args[0].input.RequestItems?.t ?? []);
    expect(requests).toHaveLength(2);
  });

  it('throws when items stay unprocessed', async () => {
    vi.useFakeTimers();
    try {
      dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
        UnprocessedItems: input.RequestItems,
      }));
      const result = repo.recordAttempts([attemptOf('e1')]);
      const assertion = expect(result).rejects.toThrow(/still unprocessed/);
      await vi.runAllTimersAsync();
      await assertion;
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('audit handler', () => {
  it('records each event and treats an already recorded one as done', async () => {
    dynamo.on(PutCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    dynamo.on(GetCommand).callsFake(() => ({ Item: putsTo('test-audit')[0]?.Item }));
    const envelope = envelopeFactory();
    const response = await handler({
      Records: [sqsRecordFactory(busEventBody(envelope)), sqsRecordFactory(busEventBody(envelope))],
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(putsTo('test-audit')).toHaveLength(2);
  });

  it('quarantines a body that is not a valid envelope (source audit) and does not fail it', async () => {
    dynamo.on(PutCommand).resolves({});
    const bad = sqsRecordFactory(busEventBody({ id: 'e1', tenantId: 't1' }), 'm-bad');
    const notJson = sqsRecordFactory('{{', 'm-json');
    const response = await handler({ Records: [bad, notJson] });
    expect(response.batchItemFailures).toEqual([]);
    const entries = putsTo('test-quarantine').map((input) => input.Item);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ reason: 'INVALID_EVENT', source: 'audit', recordId: 'm-bad' });
    expect(String(entries[0]?.message)).toContain('not a valid envelope');
    expect(JSON.parse(String(entries[0]?.record))).toEqual(bad);
  });

  it('fails a message whose audit write or quarantine write fails', async () => {
    dynamo.on(PutCommand).rejects(new Error('throttled'));
    const good = sqsRecordFactory(busEventBody(envelopeFactory()), 'm-good');
    const bad = sqsRecordFactory('not json', 'm-bad');
    const response = await handler({ Records: [good, bad] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-good' }, { itemIdentifier: 'm-bad' }]);
  });
});
