/** Receipts (`ack`) and replays recorded per subject: what counts, what is ignored, and that the reply never tells. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SUBJECT_OUTCOMES,
  type SubjectRecord,
  subjectKeyOf,
  subjectRecordSortKey,
} from '../../src/core/auditRecord.js';
import { type ClientMessagePorts, handleClientMessage } from '../../src/core/clientMessages.js';
import type { Envelope } from '../../src/core/envelope.js';
import type { FanoutResult } from '../../src/core/fanoutDelivery.js';
import {
  connectionsToName,
  fanoutSubjectRecords,
  subjectRecordsMode,
} from '../../src/core/fanoutSubjects.js';
import { decodeKey } from '../../src/core/keyCodec.js';
import {
  DYNAMODB_PARTITION_KEY_MAX_BYTES,
  DYNAMODB_SORT_KEY_MAX_BYTES,
  NAME_MAX_BYTES,
} from '../../src/core/names.js';
import { MAX_ACK_IDS, serverFrameSchema } from '../../src/core/protocol.js';
import { recordReceipts } from '../../src/core/receipts.js';
import { DEFAULT_RESUME_SETTINGS } from '../../src/core/resume.js';
import { foldSubjectRecords, isMissing } from '../../src/core/subjectHistory.js';
import type { ConnectionIdentity } from '../../src/core/token.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const identity: ConnectionIdentity = { tenantId: 't1', subject: 'agent-1', allowedChannels: ['orders'] };
const ctx = { connectionId: 'c1', identity };

function fakeAudit(stored: readonly Envelope[]) {
  const recorded: SubjectRecord[] = [];
  const receipts = {
    // Like the repository: looked up by tenant and id, so another tenant's id is simply absent.
    getEvents: async (tenantId: string, ids: readonly string[]) =>
      stored.filter((e) => e.tenantId === tenantId && ids.includes(e.id)),
    recordSubjects: async (records: readonly SubjectRecord[]) => {
      recorded.push(...records);
    },
  };
  const ports: ClientMessagePorts = {
    receipts,
    isSubscribed: async () => true,
    currentEpoch: async () => 'ep1',
    querySeq: async () => ({ items: [], more: false }),
    subscribe: async () => undefined,
    unsubscribe: async () => undefined,
    subscriptionsOf: async () => [],
    getEvent: async (tenantId, id) => stored.find((e) => e.tenantId === tenantId && e.id === id),
    queryChannel: async (tenantId, channel, { afterPosition, limit }) => {
      const page = stored
        .filter(
          (e) =>
            e.tenantId === tenantId &&
            e.channel === channel &&
            (afterPosition === undefined || e.position > afterPosition),
        )
        .sort((a, b) => (a.position < b.position ? -1 : 1))
        .slice(0, limit);
      return { events: page };
    },
  };
  return { ports, receipts, recorded };
}

const own = envelopeFactory({ id: 'e-own' });
const otherTenant = envelopeFactory({ id: 'e-other', tenantId: 't2' });
const forbidden = envelopeFactory({ id: 'e-forbidden', channel: 'payroll' });

describe('ack (receipts)', () => {
  it('records received for the tenant’s events on allowed channels and replies nothing', async () => {
    const { ports, recorded } = fakeAudit([own, otherTenant, forbidden]);
    const body = JSON.stringify({ action: 'ack', ids: ['e-own', 'e-other', 'e-forbidden', 'nope', 'e-own'] });
    expect(await handleClientMessage(body, ctx, ports, DEFAULT_RESUME_SETTINGS)).toEqual([]);
    expect(recorded).toEqual([
      expect.objectContaining({
        tenantId: 't1',
        eventId: 'e-own',
        subject: 'agent-1',
        connectionId: 'c1',
        outcome: 'received',
        channel: 'orders',
        type: own.type,
      }),
    ]);
  });

  it(`refuses more than ${MAX_ACK_IDS} ids, an empty list and ids that are not names, with INVALID_MESSAGE`, async () => {
    const { ports, recorded } = fakeAudit([own]);
    const bodies = [
      { action: 'ack', ids: Array.from({ length: MAX_ACK_IDS + 1 }, (_, i) => `e${i}`) },
      { action: 'ack', ids: [] },
      { action: 'ack', ids: ['a#b'] },
      { action: 'ack' },
    ];
    for (const body of bodies) {
      const out = (await handleClientMessage(JSON.stringify(body), ctx, ports, DEFAULT_RESUME_SETTINGS)).map(
        (text) => serverFrameSchema.parse(JSON.parse(text)),
      );
      expect(out).toEqual([
        expect.objectContaining({ type: 'error', code: 'INVALID_MESSAGE', action: 'ack' }),
      ]);
    }
    expect(recorded).toEqual([]);
  });

  it('accepts exactly the limit', async () => {
    const events = Array.from({ length: MAX_ACK_IDS }, (_, i) => envelopeFactory({ id: `max-${i}` }));
    const { receipts, recorded } = fakeAudit(events);
    expect(
      await recordReceipts(
        events.map((e) => e.id),
        ctx,
        receipts,
      ),
    ).toBe(MAX_ACK_IDS);
    expect(new Set(recorded.map((r) => r.eventId)).size).toBe(MAX_ACK_IDS);
  });

  it('never records an id it was not given, another tenant’s event or a forbidden channel’s, whatever the mix (property)', async () => {
    const pool = [
      own,
      otherTenant,
      forbidden,
      envelopeFactory({ id: 'e-2' }),
      envelopeFactory({ id: 'e-t2-same', tenantId: 't2' }),
      envelopeFactory({ id: 'e-t2-same' }),
    ];
    const idArb = fc.oneof(
      fc.constantFrom(...pool.map((e) => e.id), 'unknown', '🦄'.repeat(32)),
      fc.string({ minLength: 1, maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(idArb, { minLength: 1, maxLength: MAX_ACK_IDS }), async (ids) => {
        const { ports, recorded } = fakeAudit(pool);
        const reply = await handleClientMessage(
          JSON.stringify({ action: 'ack', ids }),
          ctx,
          ports,
          DEFAULT_RESUME_SETTINGS,
        );
        // The reply is the same for any mix of valid names: nothing tells which ids counted.
        if (reply.length > 0) expect(JSON.parse(reply[0] ?? '{}')).toMatchObject({ code: 'INVALID_MESSAGE' });
        for (const record of recorded) {
          expect(ids).toContain(record.eventId);
          expect(record.tenantId).toBe('t1');
          expect(record.channel).toBe('orders');
          expect(record.subject).toBe('agent-1');
        }
        expect(new Set(recorded.map((r) => r.eventId)).size).toBe(recorded.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('replays recorded per subject', () => {
  it('records each replayed event as replayed for the connection’s subject', async () => {
    const events = [1, 2, 3].map((n) => envelopeFactory({ id: `r-${n}` }));
    const { ports, recorded } = fakeAudit(events);
    const body = JSON.stringify({ action: 'resume', channels: [{ channel: 'orders', since: 'r-1' }] });
    await handleClientMessage(body, ctx, ports, DEFAULT_RESUME_SETTINGS);
    const replayed = recorded.filter((r) => r.outcome === 'replayed').map((r) => r.eventId);
    // The overlap re-sends nothing older than `since` here; r-2 and r-3 were missed.
    expect(replayed).toEqual(['r-2', 'r-3']);
    expect(recorded.every((r) => r.subject === 'agent-1' && r.connectionId === 'c1')).toBe(true);
  });
});

describe('a subject’s history', () => {
  const record = (eventId: string, outcome: SubjectRecord['outcome'], at: string, connectionId = 'c1') => ({
    tenantId: 't1',
    eventId,
    subject: 'agent-2',
    connectionId,
    outcome,
    channel: 'orders',
    type: 'order.updated',
    at,
  });

  it('folds records per event, keeps each outcome’s first time, and finds what was sent but never acknowledged', () => {
    const histories = foldSubjectRecords([
      record('b', 'replayed', '2026-01-01T00:00:03.000Z', 'c2'),
      record('a', 'delivered', '2026-01-01T00:00:01.000Z'),
      record('a', 'received', '2026-01-01T00:00:02.000Z'),
      record('a', 'received', '2026-01-01T00:00:05.000Z'),
      record('b', 'gone', '2026-01-01T00:00:00.500Z'),
      record('c', 'gone', '2026-01-01T00:00:04.000Z'),
      record('d', 'delivered', '2026-01-01T00:00:06.000Z'),
    ]);
    expect(histories.map((h) => h.eventId)).toEqual(['b', 'a', 'c', 'd']);
    expect(histories[1]?.first).toEqual({
      delivered: '2026-01-01T00:00:01.000Z',
      received: '2026-01-01T00:00:02.000Z',
    });
    expect(histories[0]?.connections).toEqual(['c2', 'c1']);
    // b was replayed and never acknowledged; c was never sent (gone only); d was delivered, not acknowledged.
    expect(histories.filter(isMissing).map((h) => h.eventId)).toEqual(['b', 'd']);
  });
});

describe('fan-out records per subject', () => {
  const events = [envelopeFactory({ id: 'f1' }), envelopeFactory({ id: 'f2' })];
  const summary = (eventId: string, subscribers: number, shard?: number) => ({
    eventId,
    tenantId: 't1',
    channel: 'orders',
    subscribers,
    delivered: 0,
    gone: 0,
    requeued: 0,
    failed: 0,
    refreshed: 0,
    messages: 0,
    ...(shard === undefined ? {} : { shard }),
  });
  const result = (subscribers: number, shard?: number): FanoutResult => ({
    summaries: [summary('f1', subscribers, shard), summary('f2', subscribers, shard)],
    posts: 0,
    messagesDelivered: 0,
    bytesDelivered: 0,
    prunedConnections: [],
    unqueuedEventKeys: new Set(),
    chunksEnqueued: 0,
    connectionOutcomes: [
      { connectionId: 'c1', tenantId: 't1', outcome: 'delivered', eventIds: ['f1', 'f2'] },
      { connectionId: 'c2', tenantId: 't1', outcome: 'gone', eventIds: ['f2'] },
      { connectionId: 'c3', tenantId: 't1', outcome: 'delivered', eventIds: ['f1'] },
    ],
  });
  const subjects = new Map([
    ['c1', { tenantId: 't1', subject: 'agent-1' }],
    ['c2', { tenantId: 't1', subject: 'agent-2' }],
    // A record naming another tenant is never trusted with this tenant's events.
    ['c3', { tenantId: 't2', subject: 'intruder' }],
  ]);
  const at = new Date('2026-01-01T00:00:00Z');

  it('records each connection’s outcome under its subject, up to the subscriber limit', () => {
    const records = fanoutSubjectRecords(result(3), events, subjects, 100, at);
    expect(records.map((r) => `${r.eventId}:${r.subject}:${r.outcome}`)).toEqual([
      'f1:agent-1:delivered',
      'f2:agent-1:delivered',
      'f2:agent-2:gone',
    ]);
    expect(connectionsToName(result(3), 100).sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('keeps the summary alone above the limit, for chunked fan-outs and when turned off', () => {
    expect(fanoutSubjectRecords(result(101), events, subjects, 100, at)).toEqual([]);
    expect(connectionsToName(result(101), 100)).toEqual([]);
    expect(subjectRecordsMode(summary('f1', 100), 100)).toBe('per-subject');
    expect(subjectRecordsMode(summary('f1', 101), 100)).toBe('summary-only');
    expect(subjectRecordsMode(summary('f1', 3, 0), 100)).toBe('summary-only');
    expect(subjectRecordsMode(summary('f1', 0), 0)).toBe('summary-only');
  });
});

describe('audit subject refusals', () => {
  it('needs --tenant, and refuses --missing on another subcommand, with exit code 2', async () => {
    const { run } = await import('../../src/cli/commands/audit.js');
    await expect(run(['subject', 'agent-1'])).rejects.toMatchObject({
      message: 'audit subject needs --tenant <tenantId>',
      exitCode: 2,
    });
    await expect(run(['event', 'e1', '--missing'])).rejects.toMatchObject({ exitCode: 2 });
    await expect(run(['subject', 'a#b', '--tenant', 't1'])).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('subject record keys', () => {
  const part = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom('a#b', '%23', '%', '#', '\u0000', '🦄', 'received'),
  );
  it('decode back to their parts, whatever the names hold (property)', () => {
    fc.assert(
      fc.property(
        part,
        part,
        part,
        fc.constantFrom(...SUBJECT_OUTCOMES),
        (tenant, subject, connection, outcome) => {
          expect(decodeKey(subjectKeyOf(tenant, subject))).toEqual(['SUBJ', tenant, subject]);
          const sk = decodeKey(subjectRecordSortKey({ subject, outcome, connectionId: connection }));
          expect(sk).toEqual(
            outcome === 'received'
              ? ['SUBJECT', subject, outcome]
              : ['SUBJECT', subject, outcome, connection],
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stay within DynamoDB’s key limits at the longest names', () => {
    const tenant = '€'.repeat(NAME_MAX_BYTES.tenantId / 3);
    const subject = '€'.repeat(Math.floor(NAME_MAX_BYTES.subject / 3));
    const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
    expect(bytes(subjectKeyOf(tenant, subject))).toBeLessThanOrEqual(DYNAMODB_PARTITION_KEY_MAX_BYTES);
    // API Gateway connection ids are short (about 16 characters); 128 bytes is generous.
    const sk = subjectRecordSortKey({ subject, outcome: 'delivered', connectionId: 'c'.repeat(128) });
    expect(bytes(sk)).toBeLessThanOrEqual(DYNAMODB_SORT_KEY_MAX_BYTES);
  });
});
