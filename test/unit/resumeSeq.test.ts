import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/envelope.js';
import { type ServerFrame, serverFrameSchema } from '../../src/core/protocol.js';
import {
  DEFAULT_RESUME_SETTINGS,
  fetchRange,
  lostNumbers,
  type ResumePorts,
  type ResumeSettings,
  resumeChannelRequest,
  type SeqItem,
} from '../../src/core/resume.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const EPOCH = 'ep-now';
const NOW = Date.parse('2026-11-30T12:00:00Z');
const RECENT = new Date(NOW - 1_000).toISOString();
const LONG_AGO = new Date(NOW - 60 * 60 * 1000).toISOString();

/** An audit table holding `seqs` of channel `orders` (tenant t1), recorded at `recordedAt`. */
function auditWith(seqs: readonly number[], recordedAt: (seq: number) => string = () => RECENT) {
  const items: SeqItem[] = seqs.map((seq) => ({
    envelope: envelopeFactory({ id: `e${seq}`, seq, epoch: EPOCH }),
    recordedAt: recordedAt(seq),
  }));
  const ports: ResumePorts = {
    currentEpoch: async () => EPOCH,
    querySeq: async (tenantId, channel, epoch, { fromSeq, toSeq, limit, ascending }) => {
      const matching = items
        .filter(
          (i) =>
            i.envelope.tenantId === tenantId &&
            i.envelope.channel === channel &&
            i.envelope.epoch === epoch &&
            (fromSeq === undefined || (i.envelope.seq ?? 0) >= fromSeq) &&
            (toSeq === undefined || (i.envelope.seq ?? 0) <= toSeq),
        )
        .sort((a, b) => ((a.envelope.seq ?? 0) - (b.envelope.seq ?? 0)) * (ascending ? 1 : -1));
      return { items: matching.slice(0, limit), more: matching.length > limit };
    },
    getEvent: async (_tenantId, eventId) => items.find((i) => i.envelope.id === eventId)?.envelope,
    queryChannel: async () => ({ events: [] }),
  };
  return ports;
}

const settings: ResumeSettings = { ...DEFAULT_RESUME_SETTINGS, maxEvents: 20, now: () => NOW };

function parse(messages: readonly string[]): ServerFrame[] {
  return messages.map((m) => serverFrameSchema.parse(JSON.parse(m)));
}
const seqsIn = (frames: readonly ServerFrame[]) =>
  frames
    .flatMap((f): Envelope[] => (f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : []))
    .map((e) => e.seq);

describe('resume by sequence', () => {
  it('replays every audited number above afterSeq in order, then resumed with the head', async () => {
    const out = parse(
      (
        await resumeChannelRequest(
          't1',
          { channel: 'orders', afterSeq: 3, epoch: EPOCH },
          auditWith([1, 2, 3, 4, 5, 6]),
          settings,
        )
      ).messages,
    );
    expect(seqsIn(out)).toEqual([4, 5, 6]);
    expect(out.at(-1)).toEqual({
      type: 'resumed',
      channel: 'orders',
      replayed: 3,
      head: { seq: 6, epoch: EPOCH },
    });
  });

  it('resumes `since` a numbered event by its number', async () => {
    const out = parse(
      (
        await resumeChannelRequest(
          't1',
          { channel: 'orders', since: 'e4' },
          auditWith([1, 2, 3, 4, 5]),
          settings,
        )
      ).messages,
    );
    expect(seqsIn(out)).toEqual([5]);
  });

  it('answers another epoch with refresh epoch_changed and the current head', async () => {
    const out = parse(
      (
        await resumeChannelRequest(
          't1',
          { channel: 'orders', afterSeq: 2, epoch: 'ep-old' },
          auditWith([1, 2, 3]),
          settings,
        )
      ).messages,
    );
    expect(out).toEqual([
      { type: 'refresh', channel: 'orders', reason: 'epoch_changed', head: { seq: 3, epoch: EPOCH } },
    ]);
  });

  it('answers more than the limit with refresh too_many_missed', async () => {
    const all = Array.from({ length: 30 }, (_, i) => i + 1);
    const out = parse(
      (await resumeChannelRequest('t1', { channel: 'orders', afterSeq: 5 }, auditWith(all), settings))
        .messages,
    );
    expect(out).toEqual([
      { type: 'refresh', channel: 'orders', reason: 'too_many_missed', head: { seq: 30, epoch: EPOCH } },
    ]);
  });

  it('replays past a recent hole (an event in flight, delivered live) without refreshing', async () => {
    const out = parse(
      (
        await resumeChannelRequest(
          't1',
          { channel: 'orders', afterSeq: 2 },
          auditWith([1, 2, 4, 5]),
          settings,
        )
      ).messages,
    );
    expect(seqsIn(out)).toEqual([4, 5]);
    expect(out.at(-1)).toMatchObject({ type: 'resumed', head: { seq: 5 } });
  });

  it('refreshes history_lost when afterSeq is below what the audit still holds (expired)', async () => {
    const out = parse(
      (
        await resumeChannelRequest(
          't1',
          { channel: 'orders', afterSeq: 2 },
          auditWith([10, 11, 12], () => LONG_AGO),
          settings,
        )
      ).messages,
    );
    expect(out).toEqual([
      { type: 'refresh', channel: 'orders', reason: 'history_lost', head: { seq: 12, epoch: EPOCH } },
    ]);
  });

  it('from now: resumed with nothing replayed and the head', async () => {
    const out = parse(
      (await resumeChannelRequest('t1', { channel: 'orders' }, auditWith([1, 2]), settings)).messages,
    );
    expect(out).toEqual([
      { type: 'resumed', channel: 'orders', replayed: 0, head: { seq: 2, epoch: EPOCH } },
    ]);
  });
});

describe('fetch', () => {
  it('sends the range’s events in order, then fetched with the count', async () => {
    const out = parse(
      (
        await fetchRange(
          't1',
          { channel: 'orders', fromSeq: 2, toSeq: 4 },
          auditWith([1, 2, 3, 4, 5]),
          settings,
        )
      ).messages,
    );
    expect(seqsIn(out)).toEqual([2, 3, 4]);
    expect(out.at(-1)).toEqual({ type: 'fetched', channel: 'orders', fromSeq: 2, toSeq: 4, count: 3 });
  });

  it('leaves out numbers still in flight (count below the range), and numbers not assigned yet', async () => {
    const out = parse(
      (await fetchRange('t1', { channel: 'orders', fromSeq: 1, toSeq: 9 }, auditWith([1, 2, 4, 5]), settings))
        .messages,
    );
    expect(seqsIn(out)).toEqual([1, 2, 4, 5]);
    expect(out.at(-1)).toMatchObject({ type: 'fetched', count: 4 });
  });

  it('refreshes history_lost when a number of the range is gone (a later event is old)', async () => {
    const recordedAt = (seq: number) => (seq === 6 ? LONG_AGO : RECENT);
    const out = parse(
      (
        await fetchRange(
          't1',
          { channel: 'orders', fromSeq: 3, toSeq: 4 },
          auditWith([1, 2, 6, 7], recordedAt),
          settings,
        )
      ).messages,
    );
    expect(out).toEqual([
      { type: 'refresh', channel: 'orders', reason: 'history_lost', head: { seq: 7, epoch: EPOCH } },
    ]);
  });

  it('refreshes epoch_changed for a range of another epoch', async () => {
    const out = parse(
      (
        await fetchRange(
          't1',
          { channel: 'orders', fromSeq: 1, toSeq: 2, epoch: 'ep-old' },
          auditWith([1, 2]),
          settings,
        )
      ).messages,
    );
    expect(out[0]).toMatchObject({ type: 'refresh', reason: 'epoch_changed' });
  });

  it('never sends another tenant’s events, whatever the index returns', async () => {
    const ports = auditWith([1, 2]);
    const foreign = envelopeFactory({ id: 'x', tenantId: 't2', seq: 3, epoch: EPOCH });
    const query = ports.querySeq;
    ports.querySeq = async (...args) => {
      const page = await query(...args);
      return { ...page, items: [...page.items, { envelope: foreign, recordedAt: RECENT }] };
    };
    const out = parse(
      (await fetchRange('t1', { channel: 'orders', fromSeq: 1, toSeq: 3 }, ports, settings)).messages,
    );
    expect(seqsIn(out)).toEqual([1, 2]);
  });
});

describe('lostNumbers', () => {
  it('reports exactly the missing numbers whose next audited event is older than the grace', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }),
        fc.func(fc.boolean()),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        (present, isOld, from, span) => {
          const to = from + span;
          const sorted = [...present].sort((a, b) => a - b);
          const items: SeqItem[] = sorted.map((seq) => ({
            envelope: envelopeFactory({ seq, epoch: EPOCH }),
            recordedAt: isOld(seq) ? LONG_AGO : RECENT,
          }));
          const inRange = items.filter((i) => (i.envelope.seq ?? 0) <= to);
          const after = items.find((i) => (i.envelope.seq ?? 0) > to);
          const lost = lostNumbers(from, to, inRange, after, 60_000, NOW);
          // Oracle: for each missing n in range, the first present number above n decides.
          const expected: number[] = [];
          for (let n = from; n <= to; n++) {
            if (sorted.includes(n)) continue;
            const next = sorted.find((s) => s > n);
            if (next !== undefined && isOld(next)) expected.push(n);
          }
          expect(lost).toEqual(expected);
        },
      ),
    );
  });
});
