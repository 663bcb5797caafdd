// e2e-target: offline-only — creates a business table and reads quarantine on the local DynamoDB (smoke.test.ts covers the same path on a stack)
/**
 * The outbox path end to end on the offline runtime: outbox rows (some written atomically
 * with a business item) become exactly one audit record each; the same eventId twice is one
 * event; a poison row goes to quarantine with its reason while the valid rows around it flow on.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { quarantineItemSchema } from '../../src/core/quarantine.js';
import {
  appendToOutbox,
  newOutboxEvent,
  type OutboxRowInput,
  writeWithOutbox,
} from '../../src/producer/index.js';
import { documentClient, queueDepth, scanAll, tableName, useRuntime } from './helpers/index.js';

const local = useRuntime();

async function auditedEventIds(): Promise<string[]> {
  const items = await scanAll(documentClient(local.runtime), tableName(local.runtime, 'audit'), {
    FilterExpression: 'sk = :event',
    ExpressionAttributeValues: { ':event': 'EVENT' },
    ProjectionExpression: 'eventId',
  });
  return items.map((item) => String(item.eventId));
}

function event(tenantId: string, channel: string, index: number): OutboxRowInput {
  return newOutboxEvent({
    tenantId,
    channel,
    type: 'order.updated',
    resourceId: `order-${index}`,
    data: { index },
  });
}

describe('foundation: outbox → EventBridge → audit on the offline runtime', () => {
  it('writes 500 outbox rows (100 inside TransactWriteItems with a business item) and finds exactly 500 audit records', async () => {
    const db = documentClient(local.runtime);
    const outboxTable = tableName(local.runtime, 'outbox');
    const ordersTable = 'foundation-orders';
    await db.send(
      new CreateTableCommand({
        TableName: ordersTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const events = Array.from({ length: 500 }, (_, i) => event(`tenant-${i % 5}`, `channel-${i % 7}`, i));
    const transactional = events.slice(0, 100);
    const standalone = events.slice(100);

    for (let i = 0; i < transactional.length; i += 10) {
      await Promise.all(
        transactional.slice(i, i + 10).map((outboxEvent) =>
          writeWithOutbox(
            db,
            {
              items: [
                { Put: { TableName: ordersTable, Item: { id: outboxEvent.resourceId, status: 'updated' } } },
              ],
              events: [outboxEvent],
            },
            { tableName: outboxTable },
          ),
        ),
      );
    }
    for (let i = 0; i < standalone.length; i += 25) {
      await Promise.all(
        standalone
          .slice(i, i + 25)
          .map((outboxEvent) => appendToOutbox(db, outboxEvent, { tableName: outboxTable })),
      );
    }

    await local.runtime.waitForIdle({ timeoutMs: 170_000 });

    const written = new Set(events.map((e) => e.eventId));
    const audited = (await auditedEventIds()).filter((id) => written.has(id));
    expect(audited).toHaveLength(500);
    expect(new Set(audited).size).toBe(500);
    const orders = await scanAll(db, ordersTable);
    expect(orders).toHaveLength(100);
    // Nothing failed on the way: no batch reached the publisher's on-failure destination.
    expect(queueDepth(local.runtime, 'publisherDlq')).toBe(0);
    expect(queueDepth(local.runtime, 'auditDlq')).toBe(0);
  });

  it('turns the same eventId appended twice into one event on the bus and one audit record', async () => {
    const db = documentClient(local.runtime);
    const outboxTable = tableName(local.runtime, 'outbox');
    const twice = event('tenant-dup', 'orders', 1);
    const acceptedBefore = local.runtime.bus.accepted;

    const first = await appendToOutbox(db, twice, { tableName: outboxTable });
    const second = await appendToOutbox(db, twice, { tableName: outboxTable });
    await local.runtime.waitForIdle({ timeoutMs: 60_000 });

    expect(first.appended).toBe(true);
    expect(second.appended).toBe(false);
    expect(local.runtime.bus.accepted - acceptedBefore).toBe(1);
    expect((await auditedEventIds()).filter((id) => id === twice.eventId)).toHaveLength(1);
  });

  it('quarantines a poison row with its reason while every valid row around it is audited', async () => {
    const db = documentClient(local.runtime);
    const outboxTable = tableName(local.runtime, 'outbox');
    const before = Array.from({ length: 5 }, (_, i) => event('tenant-poison', 'orders', i));
    const after = Array.from({ length: 5 }, (_, i) => event('tenant-poison', 'orders', 10 + i));
    const poisonId = `poison-${Date.now()}`;

    for (const valid of before) await appendToOutbox(db, valid, { tableName: outboxTable });
    // Written around the producer helper, as a buggy application could: no tenantId.
    await db.send(
      new PutCommand({
        TableName: outboxTable,
        Item: {
          pk: 'tenant-poison#orders',
          sk: poisonId,
          eventId: poisonId,
          channel: 'orders',
          type: 'order.updated',
          data: { broken: true },
          occurredAt: new Date().toISOString(),
        },
      }),
    );
    for (const valid of after) await appendToOutbox(db, valid, { tableName: outboxTable });
    await local.runtime.waitForIdle({ timeoutMs: 60_000 });

    const audited = new Set(await auditedEventIds());
    for (const valid of [...before, ...after]) expect(audited.has(valid.eventId)).toBe(true);
    expect(audited.has(poisonId)).toBe(false);

    const quarantined = (await scanAll(db, tableName(local.runtime, 'quarantine')))
      .map((item) => quarantineItemSchema.parse(item))
      .filter((item) => item.eventId === poisonId || item.record.includes(poisonId));
    expect(quarantined).toHaveLength(1);
    expect(['MISSING_TENANT', 'INVALID_ROW']).toContain(quarantined[0]?.reason);
    expect(quarantined[0]?.message).not.toBe('');
    expect(queueDepth(local.runtime, 'publisherDlq')).toBe(0);
  });
});
