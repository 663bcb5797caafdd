import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeTime } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import { DYNAMODB_MAX_ITEM_BYTES, PUT_EVENTS_MAX_REQUEST_BYTES } from '../../src/core/limits.js';
import {
  appendToOutbox,
  buildOutboxPut,
  DuplicateEventIdError,
  InvalidOutboxNameError,
  InvalidOutboxRowError,
  newOutboxEvent,
  OutboxEventTooLargeError,
  OutboxRowTooLargeError,
  writeWithOutbox,
} from '../../src/producer/index.js';
import { outboxRowInputFactory } from './publisherFactories.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const options = { tableName: 'outbox', now: new Date('2026-11-20T10:00:00Z') };

beforeEach(() => dynamo.reset());

function cancelled(codes: string[]) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('producer helper', () => {
  it('builds a conditional outbox Put keyed by tenant and event id (ids are unique per tenant), with a TTL', () => {
    const row = outboxRowInputFactory({ resourceId: undefined });
    const { Put } = buildOutboxPut(row, { ...options, ttlSeconds: 60 });
    expect(Put).toEqual({
      TableName: 'outbox',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: {
        ...row,
        pk: 'tenant-a',
        sk: row.eventId,
        expiresAt: Date.parse('2026-11-20T10:00:00Z') / 1000 + 60,
      },
    });
    expect(Put.Item).not.toHaveProperty('resourceId');
  });

  it('refuses an invalid row with every issue listed, before writing anything', () => {
    const bad = { ...outboxRowInputFactory(), tenantId: '', occurredAt: 'soon', data: 'x' };
    let error: unknown;
    try {
      buildOutboxPut(bad as never, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOutboxRowError);
    const issues = (error as InvalidOutboxRowError).issues.map((i) => i.path.join('.')).sort();
    expect(issues).toEqual(['data', 'occurredAt', 'tenantId']);
    expect((error as Error).message).toMatch(/tenantId: .*occurredAt|occurredAt: .*tenantId/s);
  });

  it('refuses an event the bus could never carry', () => {
    const row = outboxRowInputFactory({ data: { blob: 'x'.repeat(PUT_EVENTS_MAX_REQUEST_BYTES) } });
    expect(() => buildOutboxPut(row, options)).toThrow(OutboxEventTooLargeError);
  });

  it("refuses a row over DynamoDB's 400 KB item limit with a typed error, counting UTF-8 bytes", () => {
    // 150,000 three-byte characters: 450 KB as UTF-8, under the bus limit, over DynamoDB's item limit.
    const row = outboxRowInputFactory({ data: { text: '€'.repeat(150_000) } });
    let error: unknown;
    try {
      buildOutboxPut(row, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxRowTooLargeError);
    expect((error as OutboxRowTooLargeError).sizeBytes).toBeGreaterThan(DYNAMODB_MAX_ITEM_BYTES);
    // The same length in ASCII fits.
    expect(() =>
      buildOutboxPut(outboxRowInputFactory({ data: { text: 'x'.repeat(150_000) } }), options),
    ).not.toThrow();
  });

  it('fills in a ULID event id and the time, and keeps given ones', () => {
    const now = new Date('2026-11-20T10:00:00.123Z');
    const event = newOutboxEvent({ tenantId: 't', channel: 'c', type: 'x.created', data: {} }, now);
    expect(event.eventId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(event.eventId)).toBe(now.getTime());
    expect(event.occurredAt).toBe(now.toISOString());
    expect(newOutboxEvent({ ...event, eventId: 'mine', occurredAt: '2020-01-01T00:00:00Z' })).toMatchObject({
      eventId: 'mine',
      occurredAt: '2020-01-01T00:00:00Z',
    });
  });

  it('appends once: a second append of the same event id is a repeat, not an error', async () => {
    dynamo
      .on(PutCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    const row = outboxRowInputFactory();
    expect(await appendToOutbox(client, row, options)).toEqual({ appended: true, eventId: row.eventId });
    dynamo.on(GetCommand).resolves({ Item: dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item });
    expect(await appendToOutbox(client, row, options)).toEqual({ appended: false, eventId: row.eventId });
  });

  it("refuses the tenant's event id reused on another channel with DuplicateEventIdError", async () => {
    dynamo
      .on(PutCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    const row = outboxRowInputFactory({ channel: 'orders' });
    await appendToOutbox(client, row, options);
    dynamo.on(GetCommand).resolves({ Item: dynamo.commandCalls(PutCommand)[0]?.args[0].input.Item });
    const error = await appendToOutbox(client, { ...row, channel: 'billing' }, options).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DuplicateEventIdError);
    expect(error).toMatchObject({
      tenantId: row.tenantId,
      eventId: row.eventId,
      existing: { channel: 'orders' },
      attempted: { channel: 'billing' },
    });
  });

  it.each([
    ['tenantId', 'kv#x', 'separator'],
    ['channel', 'x#c', 'separator'],
    ['tenantId', 'a\u0000b', 'control_character'],
    ['channel', 'a b', 'whitespace'],
    ['eventId', 'é'.repeat(65), 'too_long'],
  ] as const)(
    'refuses a row whose %s is %j with InvalidOutboxNameError (%s), before writing',
    (field, value, refusal) => {
      const bad = { ...outboxRowInputFactory(), [field]: value };
      let error: unknown;
      try {
        buildOutboxPut(bad, options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOutboxNameError);
      expect(error).toBeInstanceOf(InvalidOutboxRowError);
      expect(error).toMatchObject({ field, refusal });
      expect(dynamo.calls()).toHaveLength(0);
    },
  );

  it('writes business items and events in one transaction', async () => {
    dynamo.on(TransactWriteCommand).resolves({});
    const events = [outboxRowInputFactory(), outboxRowInputFactory()];
    const business = { Put: { TableName: 'orders', Item: { pk: 'order-1' } } };
    const result = await writeWithOutbox(client, { items: [business], events }, options);
    expect(result).toEqual({ written: true, eventIds: events.map((e) => e.eventId), alreadyAppended: [] });
    const input = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input;
    expect(input?.TransactItems).toHaveLength(3);
    expect(input?.TransactItems?.[0]).toEqual(business);
  });

  it('treats a cancellation caused only by the outbox condition as an idempotent repeat', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed']));
    const event = outboxRowInputFactory();
    dynamo.on(GetCommand).resolves({ Item: buildOutboxPut(event, options).Put.Item });
    const result = await writeWithOutbox(
      client,
      { items: [{ Put: { TableName: 'orders', Item: { pk: 'o' } } }], events: [event] },
      options,
    );
    expect(result).toEqual({ written: false, eventIds: [event.eventId], alreadyAppended: [event.eventId] });
  });

  it('rethrows a cancellation caused by a business write', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(['ConditionalCheckFailed', 'None']));
    await expect(
      writeWithOutbox(
        client,
        { items: [{ Put: { TableName: 'orders', Item: { pk: 'o' } } }], events: [outboxRowInputFactory()] },
        options,
      ),
    ).rejects.toBeInstanceOf(TransactionCanceledException);
  });
});
