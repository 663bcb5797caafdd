/**
 * `recordedAmong`: which events the audit already holds, read with consistent BatchGets of at most
 * 100 keys, unprocessed keys asked again, so the fan-out's pre-record skips only events that are
 * really there.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import { auditEventPk } from '../../src/core/auditRecord.js';

const dynamo = mockClient(DynamoDBDocumentClient);
const repo = createAuditRepository({
  client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  tableName: 'audit',
});

const events = Array.from({ length: 250 }, (_, i) => ({ tenantId: i % 2 ? 't1' : 't2', id: `evt-${i}` }));

describe('recordedAmong', () => {
  beforeEach(() => dynamo.reset());

  it('returns exactly the events the table holds, asking again for unprocessed keys', async () => {
    const stored = new Set(
      [events[0], events[99], events[100], events[249]].map((e) =>
        auditEventPk(e?.tenantId ?? '', e?.id ?? ''),
      ),
    );
    let heldBack = true;
    dynamo.on(BatchGetCommand).callsFake((input) => {
      const keys: { pk: string }[] = input.RequestItems.audit.Keys;
      // The first request leaves its first key unprocessed, as a throttled table would.
      const unprocessed = heldBack ? keys.slice(0, 1) : [];
      heldBack = false;
      const answered = keys.slice(unprocessed.length).filter((k) => stored.has(k.pk));
      return {
        Responses: { audit: answered.map((k) => ({ pk: k.pk })) },
        ...(unprocessed.length > 0 ? { UnprocessedKeys: { audit: { Keys: unprocessed } } } : {}),
      };
    });

    const found = await repo.recordedAmong(events);

    expect(found.map((e) => e.id).sort()).toEqual(['evt-0', 'evt-100', 'evt-249', 'evt-99']);
    const calls = dynamo.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.audit);
    expect(calls.every((request) => request?.ConsistentRead === true)).toBe(true);
    expect(calls.every((request) => (request?.Keys?.length ?? 0) <= 100)).toBe(true);
    // 3 requests for 250 keys, and one more for the key left unprocessed.
    expect(calls).toHaveLength(4);
  });

  it('asks nothing for no events', async () => {
    expect(await repo.recordedAmong([])).toEqual([]);
    expect(dynamo.commandCalls(BatchGetCommand)).toHaveLength(0);
  });
});
