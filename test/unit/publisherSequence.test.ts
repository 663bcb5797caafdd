import { describe, expect, it } from 'vitest';
import { type BusEntry, entrySizeBytes, envelopeToBusEntry } from '../../src/core/busEntry.js';
import { toChangeRecord } from '../../src/core/dynamoStreamRecord.js';
import type { Envelope } from '../../src/core/envelope.js';
import { type PublishPorts, publishChangeRecords } from '../../src/core/publish.js';
import { SEQUENCE_ENVELOPE_RESERVE_BYTES, type SequenceNumber } from '../../src/core/sequence.js';
import { classifyChangeRecord } from '../../src/core/streamRecord.js';
import type { TrackedTableMapping } from '../../src/core/trackedTables.js';
import { outboxRowInputFactory, streamArn, streamRecordFactory } from './publisherFactories.js';

const TRACKED = 'PatchOperations';
const mapping: TrackedTableMapping = {
  tableName: TRACKED,
  streamArn: streamArn(TRACKED),
  tenantAttribute: 'tenantId',
  channel: 'patches',
  resourceIdAttribute: 'operationId',
  typePrefix: 'patch_operation',
};
const options = { trackedTables: { [TRACKED]: mapping }, now: new Date('2026-11-20T12:00:00Z') };

/** Ports with an in-memory counter per tenant+channel; records what was put and written back. */
function fakePorts(failChannel?: string) {
  const counters = new Map<string, number>();
  const put: Envelope[] = [];
  const writtenBack: { tableName: string; keys: unknown; number: SequenceNumber }[] = [];
  const assigned: string[][] = [];
  const ports: PublishPorts = {
    putEntries: async (entries: readonly BusEntry[]) => {
      for (const entry of entries) put.push(JSON.parse(entry.Detail));
      return entries.map(() => ({ status: 'published' as const, eventBridgeId: 'eb', attempts: 1 }));
    },
    quarantine: async () => {},
    assignSequences: async (tenantId, channel, eventIds) => {
      if (channel === failChannel) throw new Error('TransactionCanceledException');
      assigned.push([...eventIds]);
      const key = JSON.stringify([tenantId, channel]);
      const result = new Map<string, SequenceNumber>();
      for (const id of eventIds) {
        const n = (counters.get(key) ?? 0) + 1;
        counters.set(key, n);
        result.set(id, { seq: n, epoch: `ep-${channel}` });
      }
      return result;
    },
    writeBackSequence: async (tableName, keys, number) => {
      writtenBack.push({ tableName, keys, number });
    },
  };
  return { ports, put, writtenBack, assigned };
}

const record = (raw: Record<string, unknown>, index: number) => toChangeRecord(raw, index);

describe('publisher: sequence numbers', () => {
  it('puts the events on the bus while the numbers are written back, and waits for both', async () => {
    const rows = [outboxRowInputFactory({ channel: 'orders' }), outboxRowInputFactory({ channel: 'orders' })];
    const { ports, put } = fakePorts();
    let releaseWriteBacks: () => void = () => {};
    const writeBacksGate = new Promise<void>((resolve) => {
      releaseWriteBacks = resolve;
    });
    let writeBacksDone = 0;
    const overlapping: PublishPorts = {
      ...ports,
      // A write-back that waits for PutEvents: had the publisher awaited write-backs first, this would hang.
      writeBackSequence: async () => {
        await writeBacksGate;
        writeBacksDone += 1;
      },
      putEntries: async (entries) => {
        releaseWriteBacks();
        return ports.putEntries(entries);
      },
    };
    const result = await publishChangeRecords(
      rows.map((row, i) => record(streamRecordFactory({ newImage: row }), i)),
      overlapping,
      options,
    );
    expect(put).toHaveLength(2);
    expect(writeBacksDone).toBe(2);
    expect(result.failedSequenceNumbers).toEqual([]);
  });

  it('numbers each channel’s events in stream order, one assigner call per channel, and writes outbox numbers back', async () => {
    const rows = [
      outboxRowInputFactory({ channel: 'orders' }),
      outboxRowInputFactory({ channel: 'billing' }),
      outboxRowInputFactory({ channel: 'orders' }),
      outboxRowInputFactory({ channel: 'orders' }),
    ];
    const { ports, put, writtenBack, assigned } = fakePorts();
    const result = await publishChangeRecords(
      rows.map((row, i) => record(streamRecordFactory({ newImage: row }), i)),
      ports,
      options,
    );
    expect(result.failedSequenceNumbers).toEqual([]);
    expect(put.map((e) => [e.channel, e.seq, e.epoch])).toEqual([
      ['orders', 1, 'ep-orders'],
      ['billing', 1, 'ep-billing'],
      ['orders', 2, 'ep-orders'],
      ['orders', 3, 'ep-orders'],
    ]);
    expect(assigned).toHaveLength(2);
    expect(writtenBack.map((w) => w.number.seq).sort()).toEqual([1, 1, 2, 3]);
  });

  it('numbers tracked-table events too, without writing to the application’s table', async () => {
    const { ports, put, writtenBack } = fakePorts();
    const raw = streamRecordFactory({
      tableName: TRACKED,
      keys: { pk: 'OP#1', sk: 'v1' },
      newImage: { pk: 'OP#1', sk: 'v1', tenantId: 't1', operationId: 'op-1' },
    });
    await publishChangeRecords([record(raw, 0)], ports, options);
    expect(put[0]).toMatchObject({ channel: 'patches', seq: 1 });
    expect(writtenBack).toEqual([]);
  });

  it('fails (for the stream to retry) the events whose numbers could not be assigned, holding back their key', async () => {
    const { ports, put } = fakePorts('orders');
    const orders = outboxRowInputFactory({ tenantId: 'tenant-a', channel: 'orders' });
    const billing = outboxRowInputFactory({ tenantId: 'tenant-b', channel: 'billing' });
    const result = await publishChangeRecords(
      [
        record(streamRecordFactory({ newImage: orders, sequenceNumber: '1' }), 0),
        record(streamRecordFactory({ newImage: billing, sequenceNumber: '2' }), 1),
      ],
      ports,
      options,
    );
    expect(result.failedSequenceNumbers).toEqual(['1']);
    expect(result.records[0]?.failure).toMatch(/sequence assignment failed/);
    expect(put.map((e) => e.id)).toEqual([billing.eventId]);
  });

  it('refuses an event too large to carry its number before numbering it (no number burned)', async () => {
    const raw = streamRecordFactory({ newImage: outboxRowInputFactory() });
    const plain = classifyChangeRecord(record(raw, 0), options);
    if (plain.kind !== 'event') throw new Error('expected an event');
    const size = entrySizeBytes(plain.entry);
    // Fits without seq and epoch, not with room for them: quarantined, never numbered.
    const tight = fakePorts();
    const refused = await publishChangeRecords([record(raw, 0)], tight.ports, {
      ...options,
      maxEntryBytes: size + 10,
    });
    expect(refused.records[0]).toMatchObject({ status: 'quarantined', reason: 'ENVELOPE_TOO_LARGE' });
    expect(tight.assigned).toEqual([]);
    // With room for the largest seq and epoch, it is numbered and still within the limit.
    const roomy = fakePorts();
    roomy.ports.assignSequences = async (_t, _c, ids) =>
      new Map(ids.map((id) => [id, { seq: Number.MAX_SAFE_INTEGER, epoch: 'e'.repeat(64) }]));
    const limit = size + SEQUENCE_ENVELOPE_RESERVE_BYTES;
    const published = await publishChangeRecords([record(raw, 0)], roomy.ports, {
      ...options,
      maxEntryBytes: limit,
    });
    expect(published.records[0]?.status).toBe('published');
    expect(entrySizeBytes(envelopeToBusEntry(roomy.put[0] as Envelope))).toBeLessThanOrEqual(limit);
  });
});
