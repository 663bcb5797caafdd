/** Receipts (`ack`) and replays recorded per subject: what counts, what is ignored, and that the reply never tells. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SubjectRecord } from '../../src/core/auditRecord.js';
import { type ClientMessagePorts, handleClientMessage } from '../../src/core/clientMessages.js';
import type { Envelope } from '../../src/core/envelope.js';
import { MAX_ACK_IDS, serverFrameSchema } from '../../src/core/protocol.js';
import { recordReceipts } from '../../src/core/receipts.js';
import { DEFAULT_RESUME_SETTINGS } from '../../src/core/resume.js';
import type { ConnectionIdentity } from '../../src/core/token.js';
import { envelopeFactory } from './ws-factories.js';

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
