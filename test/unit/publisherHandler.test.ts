import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { outboxRowInputFactory, streamRecordFactory } from './publisherFactories.js';

const eventBridge = mockClient(EventBridgeClient);
const dynamo = mockClient(DynamoDBDocumentClient);

type Handler = (event: unknown, context?: Context) => Promise<DynamoDBBatchResponse>;
let handler: Handler;

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('EVENT_BUS_NAME', 'test-bus');
  vi.stubEnv('QUARANTINE_TABLE', 'test-quarantine');
  vi.stubEnv('SEQUENCES_TABLE', 'test-sequences');
  vi.stubEnv('TRACKED_TABLES', '');
  ({ handler } = await import('../../lambdas/publisher/handler.js'));
});

/** A context whose budget leaves no room for back-off: retryable failures are returned at once. */
const noBudget = { getRemainingTimeInMillis: () => 1_000 } as unknown as Context;

const published: string[] = [];
const publishedSeqs: (number | undefined)[] = [];
beforeEach(() => {
  eventBridge.reset();
  dynamo.reset();
  published.length = 0;
  publishedSeqs.length = 0;
  dynamo.on(PutCommand).resolves({});
  // A sequences table with no counter yet; every transaction commits; write-backs succeed.
  dynamo.on(BatchGetCommand).resolves({ Responses: {} });
  dynamo.on(TransactWriteCommand).resolves({});
  dynamo.on(UpdateCommand).resolves({});
});

/** Accept every entry except those `reject` names (with that error code). */
function busAnswers(reject: (id: string) => string | undefined = () => undefined) {
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    const entries = input.Entries.map((entry) => {
      const detail = JSON.parse(entry.Detail ?? '{}');
      const id: string = detail.id;
      const code = reject(id);
      if (code) return { ErrorCode: code, ErrorMessage: 'no' };
      published.push(id);
      publishedSeqs.push(detail.seq);
      return { EventId: `eb-${id}` };
    });
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  });
}

function quarantined() {
  return dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item ?? {});
}

describe('publisher handler', () => {
  it('publishes valid rows and quarantines a poison row without failing the batch', async () => {
    busAnswers();
    const rows = [outboxRowInputFactory(), outboxRowInputFactory(), outboxRowInputFactory()];
    const { tenantId: _t, ...poison } = outboxRowInputFactory();
    const records = [
      streamRecordFactory({ newImage: rows[0] }),
      streamRecordFactory({ newImage: poison, keys: { pk: 'x#orders', sk: poison.eventId } }),
      streamRecordFactory({ newImage: rows[1] }),
      streamRecordFactory({ newImage: rows[2] }),
    ];
    const response = await handler({ Records: records });
    expect(response.batchItemFailures).toEqual([]);
    expect(published).toEqual(rows.map((r) => r.eventId));
    // All rows share a channel: numbered 1, 2, 3 in one transaction, written back to each row.
    expect(publishedSeqs).toEqual([1, 2, 3]);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(
      dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':seq']),
    ).toEqual([1, 2, 3]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
    const [entry] = quarantined();
    expect(entry).toMatchObject({ reason: 'MISSING_TENANT', source: 'publisher', eventId: poison.eventId });
    expect(JSON.parse(String(entry?.record))).toEqual(records[1]);
    expect(dynamo.commandCalls(PutCommand)[0]?.args[0].input.TableName).toBe('test-quarantine');
  });

  it('quarantines an event EventBridge rejects permanently, with the error code', async () => {
    const row = outboxRowInputFactory();
    busAnswers((id) => (id === row.eventId ? 'MalformedDetail' : undefined));
    const response = await handler({ Records: [streamRecordFactory({ newImage: row })] });
    expect(response.batchItemFailures).toEqual([]);
    expect(quarantined()[0]).toMatchObject({
      reason: 'PUT_EVENTS_REJECTED',
      eventId: row.eventId,
      details: { errorCode: 'MalformedDetail' },
    });
  });

  it('fails a record still throttled after the budget, and every later record of its partition key', async () => {
    const a1 = outboxRowInputFactory({ channel: 'a' });
    const b1 = outboxRowInputFactory({ channel: 'b' });
    const a2 = outboxRowInputFactory({ channel: 'a' });
    const b2 = outboxRowInputFactory({ channel: 'b' });
    busAnswers((id) => (id === a1.eventId ? 'ThrottlingException' : undefined));
    const records = [a1, b1, a2, b2].map((row, i) =>
      streamRecordFactory({ newImage: row, sequenceNumber: String(100 + i) }),
    );
    const response = await handler({ Records: records }, noBudget);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '100' }, { itemIdentifier: '102' }]);
    expect(quarantined()).toEqual([]);
  });

  it('fails a record whose quarantine write fails, so nothing is lost', async () => {
    busAnswers();
    dynamo.on(PutCommand).rejects(new Error('table unavailable'));
    const { tenantId: _t, ...poison } = outboxRowInputFactory();
    const good = outboxRowInputFactory({ channel: 'other' });
    const response = await handler({
      Records: [
        streamRecordFactory({
          newImage: poison,
          keys: { pk: 'x#orders', sk: poison.eventId },
          sequenceNumber: '7',
        }),
        streamRecordFactory({ newImage: good, sequenceNumber: '8' }),
      ],
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '7' }]);
    expect(published).toEqual([good.eventId]);
  });

  it('ignores outbox REMOVE records', async () => {
    busAnswers();
    const response = await handler({
      Records: [streamRecordFactory({ eventName: 'REMOVE', newImage: null, keys: { pk: 'a#b', sk: 'c' } })],
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(quarantined()).toEqual([]);
  });
});
