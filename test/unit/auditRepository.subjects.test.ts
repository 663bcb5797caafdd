/**
 * Per-subject records under a deadline: no write starts after `until`, and what was left
 * unwritten is counted, so a fan-out near its timeout can stop instead of being killed.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import type { SubjectOutcome, SubjectRecord } from '../../src/core/auditRecord.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const repo = createAuditRepository({
  client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  tableName: 'audit',
});

function records(count: number, outcome: SubjectOutcome = 'delivered'): SubjectRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    tenantId: 't1',
    eventId: `evt-${i}`,
    subject: `user-${i % 7}`,
    connectionId: `conn-${i}`,
    outcome,
    channel: 'orders',
    type: 'order.created',
    at: '2026-11-30T09:00:00.000Z',
  }));
}

/** A fan-out's records: every event to every subscriber (one connection each). */
function fanout(events: number, subscribers: number): SubjectRecord[] {
  return Array.from({ length: events * subscribers }, (_, i) => ({
    tenantId: 't1',
    eventId: `evt-${Math.floor(i / subscribers)}`,
    subject: `user-${i % subscribers}`,
    connectionId: `conn-${i % subscribers}`,
    outcome: 'delivered',
    channel: 'orders',
    type: 'order.created',
    at: '2026-11-30T09:00:00.000Z',
  }));
}

const writtenItems = () =>
  dynamo
    .commandCalls(BatchWriteCommand)
    .flatMap((call) => call.args[0].input.RequestItems?.audit ?? [])
    .map((request) => request.PutRequest?.Item ?? {});

const written = () => writtenItems().length;

/** Records both of whose items (the connection's deliveries, the event's digest) were written. */
function stored(all: readonly SubjectRecord[]): number {
  const items = writtenItems();
  const delivered = new Set(
    items.flatMap((item) =>
      item.kind === 'subjectDeliveries'
        ? (JSON.parse(String(item.events)) as string[][]).map(([id]) => `${String(item.connectionId)}|${id}`)
        : [],
    ),
  );
  const digested = new Set(
    items.flatMap((item) =>
      item.kind === 'subjectDigest'
        ? (JSON.parse(String(item.entries)) as string[][]).map(
            ([, connectionId]) => `${connectionId}|${String(item.eventId)}`,
          )
        : [],
    ),
  );
  return all.filter((r) => {
    const key = `${r.connectionId}|${r.eventId}`;
    return delivered.has(key) && digested.has(key);
  }).length;
}

describe('recordSubjects with a deadline', () => {
  beforeEach(() => {
    dynamo.reset();
    dynamo.on(BatchWriteCommand).resolves({});
    dynamo.on(PutCommand).resolves({});
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-30T09:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('writes one item per connection and one per event, in BatchWrites of 25, without a deadline', async () => {
    const all = fanout(30, 5);
    expect(await repo.recordSubjects(all)).toEqual({ skipped: 0 });
    expect(written()).toBe(35); // 5 connections + 30 events, not 150 records
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(2);
    expect(stored(all)).toBe(150);
  });

  it('starts no write once the deadline has passed, and counts what it left', async () => {
    const until = Date.now() - 1;
    expect(await repo.recordSubjects([...records(30), ...records(4, 'received')], { until })).toEqual({
      skipped: 34,
    });
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('starts no BatchWrite after the deadline passes during the writes, and counts the rest', async () => {
    const until = Date.now() + 1_000;
    // Each BatchWrite takes 600 ms of the clock: the first ones in flight pass the deadline, and
    // no write may start after that (40 BatchWrites' worth without a deadline).
    dynamo.on(BatchWriteCommand).callsFake(async () => {
      vi.setSystemTime(Date.now() + 600);
      return {};
    });
    const all = records(500);
    const { skipped } = await repo.recordSubjects(all, { until });
    expect(written()).toBeGreaterThan(0);
    expect(written()).toBeLessThan(1000); // 500 deliveries items + 500 digests without a deadline
    expect(skipped).toBeGreaterThan(0);
    expect(stored(all) + skipped).toBe(500);
  });

  it('keeps several BatchWrites in flight at once', async () => {
    let inFlight = 0;
    let most = 0;
    dynamo.on(BatchWriteCommand).callsFake(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return {};
    });
    expect(await repo.recordSubjects(fanout(100, 3))).toEqual({ skipped: 0 });
    expect(written()).toBe(103);
    expect(most).toBeGreaterThan(1);
  });
});
