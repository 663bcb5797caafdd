// e2e-target: offline-only — writes and reads the audit table of a DynamoDB Local it starts itself
/**
 * Per-subject records against a real table: a fan-out's records stored grouped (a deliveries item
 * per connection, a digest per event) read back exactly per subject and per event, merged in time
 * order with receipts (index `bySubject`), cut at the limit with `more` set, and from `since` on.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants.js';
import { type DynamoLocal, startDynamoLocal } from '../../local/dynamo.js';
import { createTables } from '../../local/tables.js';
import {
  type AuditRepository,
  CorruptAuditItemError,
  createAuditRepository,
} from '../../src/aws/auditRepository.js';
import { topology } from '../../src/contract/topology.js';
import type { SubjectRecord } from '../../src/core/auditRecord.js';
import { summaryKeyOf, summarySubjectsByEvent } from '../../src/core/subjectItems.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const TENANT = 'tenant-subjects';
let dynamo: DynamoLocal;
let documents: DynamoDBDocumentClient;
let audit: AuditRepository;
let tableName: string;

const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 9, 0, second)).toISOString();

/** One fan-out write: `events` events to `subscribers` subscribers (one connection each). */
function fanout(firstEvent: number, events: number, subscribers: number, second: number): SubjectRecord[] {
  return Array.from({ length: events * subscribers }, (_, i) => ({
    tenantId: TENANT,
    eventId: `evt-${String(firstEvent + Math.floor(i / subscribers)).padStart(4, '0')}`,
    subject: `agent-${i % subscribers}`,
    connectionId: `conn-${i % subscribers}`,
    outcome: 'delivered' as const,
    channel: 'orders',
    type: 'order.created',
    at: at(second),
  }));
}

beforeAll(async () => {
  dynamo = await startDynamoLocal({});
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const tables = await createTables(client, { audit: topology.tables.audit });
  tableName = tables.audit?.name ?? '';
  documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  audit = createAuditRepository({ client: documents, tableName });
  // Three fan-out writes of 100 events to 5 subscribers (seconds 1, 3, 5), and agent-0's receipts
  // of the first 150 events at second 4: 1,500 records and 150 receipts.
  for (const [write, second] of [1, 3, 5].entries())
    await audit.recordSubjects(fanout(write * 100, 100, 5, second));
  await audit.recordSubjects(
    fanout(0, 150, 1, 4).map((record) => ({ ...record, outcome: 'received' as const })),
  );
}, 120_000);

afterAll(async () => {
  await dynamo?.stop();
});

describe('per-subject records in a real table', () => {
  it('stores a fan-out write as one item per connection and one per event', async () => {
    const items = await documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `SUBJ#${TENANT}#agent-3` },
      }),
    );
    // agent-3's three writes: three deliveries items of 100 events, not 300 records.
    expect(items.Items?.map((item) => item.kind)).toEqual([
      'subjectDeliveries',
      'subjectDeliveries',
      'subjectDeliveries',
    ]);
  });

  it('gives one subject every event it was sent and acknowledged, in time order', async () => {
    const page = await audit.querySubject(TENANT, 'agent-0', { limit: 10_000 });
    expect(page.more).toBe(false);
    const delivered = page.items.filter((item) => item.outcome === 'delivered');
    const received = page.items.filter((item) => item.outcome === 'received');
    expect(delivered).toHaveLength(300);
    expect(new Set(delivered.map((item) => item.eventId)).size).toBe(300);
    expect(received).toHaveLength(150);
    const times = page.items.map((item) => item.at);
    expect(times).toEqual([...times].sort());
    // Receipts (second 4) sit between the second and the third write.
    expect(page.items[200]?.outcome).toBe('received');
    expect(page.items[350]?.outcome).toBe('delivered');
    expect(page.items.every((item) => item.channel === 'orders' && item.type === 'order.created')).toBe(true);
  });

  it('cuts at the limit and says more follow, from either source', async () => {
    const first = await audit.querySubject(TENANT, 'agent-0', { limit: 250 });
    expect(first.items).toHaveLength(250);
    expect(first.more).toBe(true);
    expect(first.items.slice(0, 200).every((item) => item.outcome === 'delivered')).toBe(true);
    expect(first.items.slice(200).every((item) => item.outcome === 'received')).toBe(true);
    const small = await audit.querySubject(TENANT, 'agent-4', { limit: 1 });
    expect(small.items).toHaveLength(1);
    expect(small.more).toBe(true);
  });

  it('reads from `since` on, in both sources', async () => {
    const page = await audit.querySubject(TENANT, 'agent-0', { limit: 10_000, since: new Date(at(4)) });
    expect(page.items.filter((item) => item.outcome === 'received')).toHaveLength(150);
    expect(page.items.filter((item) => item.outcome === 'delivered').map((item) => item.eventId)).toEqual(
      Array.from({ length: 100 }, (_, i) => `evt-${String(200 + i).padStart(4, '0')}`),
    );
  });

  it('gives one event every subject it reached, and its receipt', async () => {
    const { subjects } = await audit.getEventWithAttempts(TENANT, 'evt-0042');
    expect(subjects.map((s) => `${s.subject}:${s.outcome}`).sort()).toEqual([
      'agent-0:delivered',
      'agent-0:received',
      'agent-1:delivered',
      'agent-2:delivered',
      'agent-3:delivered',
      'agent-4:delivered',
    ]);
    expect(subjects.every((s) => s.at === (s.outcome === 'received' ? at(4) : at(1)))).toBe(true);
  });

  it('reads the subjects a fan-out summary carries in place of a digest, and refuses a corrupt list', async () => {
    const eventId = 'evt-carried';
    await audit.recordEvent(
      envelopeFactory({ id: eventId, tenantId: TENANT, channel: 'orders', type: 'order.created' }),
    );
    const records = fanout(0, 1, 3, 7).map((r) => ({ ...r, eventId }));
    await audit.recordAttempts([
      {
        tenantId: TENANT,
        eventId,
        attempt: {
          path: 'websocket',
          target: 'fanout',
          tenantId: TENANT,
          outcome: 'delivered',
          durationMs: 5,
          attempt: 1,
          at: at(7),
          fanout: {
            subscribers: 3,
            delivered: 3,
            gone: 0,
            requeued: 0,
            failed: 0,
            refreshed: 0,
            messages: 3,
            subjectRecords: 'per-subject',
            subjects: summarySubjectsByEvent(records)?.get(summaryKeyOf(TENANT, eventId)),
          },
        },
      },
    ]);
    await audit.recordSubjects(records, { digests: false });
    const { attempts, subjects } = await audit.getEventWithAttempts(TENANT, eventId);
    expect(subjects.map((s) => `${s.subject}:${s.outcome}:${s.channel}:${s.at}`)).toEqual(
      ['agent-0', 'agent-1', 'agent-2'].map((agent) => `${agent}:delivered:orders:${at(7)}`),
    );
    expect(attempts[0]?.fanout).not.toHaveProperty('subjects');
    // What each agent was sent is in its own partition all the same.
    const page = await audit.querySubject(TENANT, 'agent-1', { limit: 10_000, since: new Date(at(7)) });
    expect(page.items.map((item) => item.eventId)).toContain(eventId);

    await documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: attempts[0]?.pk, sk: attempts[0]?.sk },
        UpdateExpression: 'SET fanout.subjects = :bad',
        ExpressionAttributeValues: { ':bad': '[["agent-0"]]' },
      }),
    );
    await expect(audit.getEventWithAttempts(TENANT, eventId)).rejects.toBeInstanceOf(CorruptAuditItemError);
  });

  it('shows a repeated write once, with its latest time', async () => {
    await audit.recordSubjects(fanout(42, 1, 5, 9));
    const { subjects } = await audit.getEventWithAttempts(TENANT, 'evt-0042');
    const delivered = subjects.filter((s) => s.outcome === 'delivered');
    expect(delivered).toHaveLength(5);
    expect(delivered.every((s) => s.at === at(9))).toBe(true);
    const page = await audit.querySubject(TENANT, 'agent-2', { limit: 10_000 });
    expect(page.items.filter((item) => item.eventId === 'evt-0042')).toHaveLength(1);
    expect(page.items.at(-1)?.eventId).toBe('evt-0042');
  });
});
