/**
 * The shared DynamoDB batch calls: requests split to DynamoDB's limits, what a call leaves
 * unprocessed sent again until done or given up with a typed error, no chunk started after the
 * deadline (and what it held counted), and never more calls in flight than asked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BATCH_MAX_RETRIES,
  BatchUnprocessedError,
  type BatchWriteRequest,
  batchGetAll,
  batchRetryDelayMs,
  batchWriteAll,
} from '../../src/aws/batchCalls.js';
import { documentSender } from '../../src/aws/sdk/dynamo.js';

const TABLE = 'things';
const dynamo = mockClient(DynamoDBDocumentClient);
const client = documentSender(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })));

/** Records the waits instead of waiting. */
let waits: number[] = [];
const sleep = async (ms: number) => {
  waits.push(ms);
};

const puts = (count: number): BatchWriteRequest[] =>
  Array.from({ length: count }, (_, i) => ({ PutRequest: { Item: { pk: `p${i}`, sk: 'x' } } }));
const keys = (count: number) => Array.from({ length: count }, (_, i) => ({ pk: `p${i}`, sk: 'x' }));

const writeSizes = () =>
  dynamo.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.[TABLE]?.length);
const getRequests = () =>
  dynamo.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.[TABLE]);

beforeEach(() => {
  dynamo.reset();
  waits = [];
});
afterAll(() => dynamo.restore());

describe('batchWriteAll', () => {
  it('writes every request in BatchWrites of at most 25, and skips nothing without a deadline', async () => {
    dynamo.on(BatchWriteCommand).resolves({});
    const requests: BatchWriteRequest[] = [
      ...puts(40),
      ...keys(20).map((Key) => ({ DeleteRequest: { Key: { ...Key, sk: 'y' } } })),
    ];

    expect(await batchWriteAll(client, TABLE, requests, { sleep })).toEqual({ skipped: 0, unstarted: [] });

    expect(writeSizes()).toEqual([25, 25, 10]);
    const sent = dynamo.commandCalls(BatchWriteCommand).flatMap((c) => c.args[0].input.RequestItems?.[TABLE]);
    expect(sent).toEqual(requests);
  });

  it('sends nothing for no requests', async () => {
    expect(await batchWriteAll(client, TABLE, [], { sleep })).toEqual({ skipped: 0, unstarted: [] });
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('re-sends exactly what DynamoDB left unprocessed, after a back-off, puts and deletes alike', async () => {
    const put = (pk: string): BatchWriteRequest => ({ PutRequest: { Item: { pk, sk: 'x' } } });
    const [a, b, c] = [put('a'), put('b'), put('c')];
    const remove: BatchWriteRequest = { DeleteRequest: { Key: { pk: 'gone', sk: 'x' } } };
    const requests = [a, b, c, remove];
    const leftOver = [b, remove];
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: leftOver } })
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [remove] } })
      .resolves({});

    await batchWriteAll(client, TABLE, requests, { sleep });

    const sent = dynamo.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.[TABLE]);
    expect(sent).toEqual([requests, leftOver, [remove]]);
    expect(waits).toEqual([batchRetryDelayMs(1), batchRetryDelayMs(2)]);
  });

  it(`gives up with BatchUnprocessedError after ${BATCH_MAX_RETRIES} re-sends`, async () => {
    const requests = puts(5);
    dynamo.on(BatchWriteCommand).resolves({ UnprocessedItems: { [TABLE]: requests.slice(0, 2) } });

    const failure = await batchWriteAll(client, TABLE, requests, { sleep }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BatchUnprocessedError);
    expect(failure).toMatchObject({ operation: 'BatchWrite', tableName: TABLE, unprocessed: 2 });
    expect((failure as Error).message).toBe(`BatchWrite on ${TABLE}: 2 items still unprocessed`);
    expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(1 + BATCH_MAX_RETRIES);
    // Back-off doubles from 50 ms and stays at a second.
    expect(waits).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
  });

  describe('with a deadline', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-30T09:00:00Z'));
    });
    afterEach(() => vi.useRealTimers());

    it('starts nothing once the deadline has passed, and counts every request as skipped', async () => {
      dynamo.on(BatchWriteCommand).resolves({});
      const requests = puts(60);
      expect(await batchWriteAll(client, TABLE, requests, { until: Date.now(), sleep })).toEqual({
        skipped: 60,
        unstarted: requests,
      });
      expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
    });

    it('skips whole chunks not started before the deadline, and finishes the re-sends of started ones', async () => {
      const until = Date.now() + 1_000;
      let first = true;
      // Each call takes 1,100 ms of the clock; the first leaves one item unprocessed, whose re-send
      // still starts after the deadline because its chunk had started before it.
      dynamo.on(BatchWriteCommand).callsFake(async (input) => {
        vi.setSystemTime(Date.now() + 1_100);
        const sent = input.RequestItems[TABLE];
        if (!first) return {};
        first = false;
        return { UnprocessedItems: { [TABLE]: sent.slice(0, 1) } };
      });

      const { skipped } = await batchWriteAll(client, TABLE, puts(110), { until, sleep });

      // Chunk 1 (25, then its 1 left over) runs to 2,200 ms: chunks 2 to 5 (85 requests) never start.
      expect(writeSizes()).toEqual([25, 1]);
      expect(skipped).toBe(85);
    });

    it('counts the requests of chunks in flight at the deadline as written, the rest as skipped', async () => {
      const until = Date.now() + 1_000;
      dynamo.on(BatchWriteCommand).callsFake(async () => {
        vi.setSystemTime(Date.now() + 600);
        return {};
      });

      const requests = puts(500);
      const { skipped, unstarted } = await batchWriteAll(client, TABLE, requests, {
        until,
        inFlight: 4,
        sleep,
      });

      const written = writeSizes().reduce<number>((sum, n) => sum + (n ?? 0), 0);
      expect(written).toBeGreaterThan(0);
      expect(skipped).toBeGreaterThanOrEqual(250);
      expect(written + skipped).toBe(500);
      // The unstarted requests are named, none of them sent: a caller can tell what was not written.
      expect(unstarted).toHaveLength(skipped);
      const sent = new Set(
        dynamo
          .commandCalls(BatchWriteCommand)
          .flatMap((call) => call.args[0].input.RequestItems?.[TABLE] ?? []),
      );
      expect(unstarted.every((request) => requests.includes(request) && !sent.has(request))).toBe(true);
    });
  });
});

describe('batchGetAll', () => {
  it('reads in BatchGets of at most 100 keys, with only the options asked for', async () => {
    dynamo.on(BatchGetCommand).callsFake((input) => ({
      Responses: { [TABLE]: input.RequestItems[TABLE].Keys },
    }));

    const items = await batchGetAll(client, TABLE, keys(250), { sleep });

    expect(items).toHaveLength(250);
    expect(new Set(items.map((item) => item.pk))).toEqual(new Set(keys(250).map((k) => k.pk)));
    expect(getRequests().map((r) => r?.Keys?.length)).toEqual([100, 100, 50]);
    // No option: the request carries neither field (an eventually consistent read of whole items).
    expect(getRequests().every((r) => !('ConsistentRead' in (r ?? {})))).toBe(true);
    expect(getRequests().every((r) => !('ProjectionExpression' in (r ?? {})))).toBe(true);
  });

  it('passes consistentRead and projection on every request, re-asks included', async () => {
    let heldBack = true;
    dynamo.on(BatchGetCommand).callsFake((input) => {
      const asked = input.RequestItems[TABLE].Keys;
      const unprocessed = heldBack ? asked.slice(0, 1) : [];
      heldBack = false;
      return {
        Responses: { [TABLE]: asked.slice(unprocessed.length).map((k: { pk: string }) => ({ pk: k.pk })) },
        ...(unprocessed.length > 0 ? { UnprocessedKeys: { [TABLE]: { Keys: unprocessed } } } : {}),
      };
    });

    const items = await batchGetAll(client, TABLE, keys(150), {
      consistentRead: true,
      projection: 'pk',
      sleep,
    });

    expect(items.map((item) => item.pk).sort()).toEqual(
      keys(150)
        .map((k) => k.pk)
        .sort(),
    );
    // 100 + its 1 left over, then 50.
    expect(getRequests().map((r) => r?.Keys?.length)).toEqual([100, 1, 50]);
    expect(getRequests().every((r) => r?.ConsistentRead === true && r.ProjectionExpression === 'pk')).toBe(
      true,
    );
    expect(waits).toEqual([batchRetryDelayMs(1)]);
  });

  it('leaves out keys without an item and asks nothing for no keys', async () => {
    dynamo.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [{ pk: 'p1', sk: 'x' }] } });
    expect(await batchGetAll(client, TABLE, keys(3), { sleep })).toEqual([{ pk: 'p1', sk: 'x' }]);
    dynamo.reset();
    expect(await batchGetAll(client, TABLE, [], { sleep })).toEqual([]);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(0);
  });

  it(`gives up with BatchUnprocessedError after ${BATCH_MAX_RETRIES} re-asks`, async () => {
    dynamo.on(BatchGetCommand).resolves({ UnprocessedKeys: { [TABLE]: { Keys: keys(3) } } });

    const failure = await batchGetAll(client, TABLE, keys(10), { sleep }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BatchUnprocessedError);
    expect(failure).toMatchObject({ operation: 'BatchGet', tableName: TABLE, unprocessed: 3 });
    expect((failure as Error).message).toBe(`BatchGet on ${TABLE}: 3 keys still unprocessed`);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(1 + BATCH_MAX_RETRIES);
  });
});

describe('inFlight', () => {
  /** Resolves each call on a later turn and records the most calls ever open at once. */
  function countingInFlight(
    answer: (input: { RequestItems: Record<string, { Keys?: unknown[] }> }) => object,
  ) {
    const seen = { now: 0, most: 0 };
    const fake = async (input: { RequestItems: Record<string, { Keys?: unknown[] }> }) => {
      seen.now += 1;
      seen.most = Math.max(seen.most, seen.now);
      await new Promise((resolve) => setImmediate(resolve));
      seen.now -= 1;
      return answer(input);
    };
    return { seen, fake };
  }

  it.each([1, 3])('keeps at most %i BatchWrites in flight', async (inFlight) => {
    const { seen, fake } = countingInFlight(() => ({}));
    dynamo.on(BatchWriteCommand).callsFake(fake);
    await batchWriteAll(client, TABLE, puts(250), { inFlight, sleep });
    expect(writeSizes()).toHaveLength(10);
    expect(seen.most).toBe(inFlight);
  });

  it.each([1, 4])('keeps at most %i BatchGets in flight', async (inFlight) => {
    const { seen, fake } = countingInFlight((input) => ({
      Responses: { [TABLE]: input.RequestItems[TABLE]?.Keys },
    }));
    dynamo.on(BatchGetCommand).callsFake(fake);
    expect(await batchGetAll(client, TABLE, keys(1_000), { inFlight, sleep })).toHaveLength(1_000);
    expect(seen.most).toBe(inFlight);
  });
});
