/**
 * The publisher's core: a batch of stream records → events on the bus, quarantine entries, and
 * the records the stream must deliver again. Pure orchestration over two ports (the bus and the
 * quarantine), so tests pass fakes.
 *
 * - A record that cannot become an event (or that EventBridge rejects permanently) is quarantined
 *   and does not fail the batch; if writing the quarantine entry fails, the record fails (nothing
 *   is lost).
 * - A record whose event still fails with a retryable error when the time budget runs out fails.
 * - A failed record also fails every later record of the same partition key in the batch (an
 *   unknown key counts as every key of its table), so a retry replays them in order.
 * - With a sequence port, every event gets its tenant+channel number before it goes on the bus
 *   (a retried record finds the number it already has); events whose numbers could not be
 *   assigned fail and are retried. Outbox rows get their number written back.
 */
import { type BusEntry, envelopeToBusEntry } from './busEntry.js';
import type { ChangeRecord } from './changeRecord.js';
import { PUT_EVENTS_MAX_REQUEST_BYTES } from './limits.js';
import type { PutOutcome } from './putEventsBatches.js';
import type { QuarantineEntryInput, QuarantineReason } from './quarantine.js';
import { SEQUENCE_ENVELOPE_RESERVE_BYTES, type SequenceNumber } from './sequence.js';
import { type ClassifyOptions, classifyChangeRecord, type RecordClassification } from './streamRecord.js';

export interface PublishPorts {
  /** Put entries on the bus; one outcome per entry, in order (`src/aws/eventBus.ts#putEntries`). */
  putEntries(entries: readonly BusEntry[]): Promise<readonly PutOutcome[]>;
  /** Store a quarantine entry; throws when it could not be stored. */
  quarantine(entry: QuarantineEntryInput): Promise<void>;
  /**
   * Number events of one tenant+channel, in the order given, keeping numbers already assigned
   * (`assignSequences` over the sequences table). Absent: events go out without `seq`.
   */
  assignSequences?(
    tenantId: string,
    channel: string,
    eventIds: readonly string[],
  ): Promise<ReadonlyMap<string, SequenceNumber>>;
  /** Write an outbox row's number back to it (best effort: the assignment is the record). Must not throw. */
  writeBackSequence?(
    tableName: string,
    keys: Readonly<Record<string, unknown>>,
    number: SequenceNumber,
  ): Promise<void>;
}

export type RecordStatus = 'published' | 'ignored' | 'quarantined' | 'failed';

export interface RecordResult {
  readonly sequenceNumber: string;
  readonly status: RecordStatus;
  readonly eventId?: string;
  readonly reason?: QuarantineReason;
  /** Why a record failed: the PutEvents error code, the quarantine write error, or `held back` behind a failed record. */
  readonly failure?: string;
}

export interface PublishResult {
  /** One per input record, in input order. */
  readonly records: readonly RecordResult[];
  /** Sequence numbers to return as `batchItemFailures`, in input order. */
  readonly failedSequenceNumbers: readonly string[];
}

interface OrderKey {
  readonly table: string;
  readonly key: string | undefined;
}

function sameOrderGroup(failed: OrderKey, later: OrderKey): boolean {
  return (
    failed.table === later.table &&
    (failed.key === undefined || later.key === undefined || failed.key === later.key)
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function publishChangeRecords(
  records: readonly ChangeRecord[],
  ports: PublishPorts,
  options: ClassifyOptions,
): Promise<PublishResult> {
  const sequencing = ports.assignSequences !== undefined;
  // Leave room for `seq` and `epoch`, added after classification, so a numbered event never
  // turns out too large once it has its number (a number burned on a refused event is a hole).
  const classifyOptions: ClassifyOptions = sequencing
    ? {
        ...options,
        maxEntryBytes:
          (options.maxEntryBytes ?? PUT_EVENTS_MAX_REQUEST_BYTES) - SEQUENCE_ENVELOPE_RESERVE_BYTES,
      }
    : options;
  const classified: RecordClassification[] = records.map((record) =>
    classifyChangeRecord(record, classifyOptions),
  );
  const { failures: sequenceFailures, writeBacks } = sequencing
    ? await numberEvents(records, classified, ports, options)
    : { failures: new Map<number, string>(), writeBacks: Promise.resolve([]) };

  const eventIndexes: number[] = [];
  classified.forEach((c, index) => {
    if (c.kind === 'event' && !sequenceFailures.has(index)) eventIndexes.push(index);
  });
  const outcomes = await ports.putEntries(
    eventIndexes.map((index) => {
      const c = classified[index];
      if (c?.kind !== 'event') throw new Error('unreachable: index of a non-event');
      return c.entry;
    }),
  );
  // The rows' copies of their numbers were written while the events went out (they gate nothing).
  for (const settled of await writeBacks) if (settled.status === 'rejected') throw settled.reason;
  const outcomeByRecord = new Map<number, PutOutcome>();
  eventIndexes.forEach((recordIndex, position) => {
    const outcome = outcomes[position];
    if (outcome) outcomeByRecord.set(recordIndex, outcome);
  });

  const results: RecordResult[] = await Promise.all(
    records.map(async (record, index): Promise<RecordResult> => {
      const c = classified[index] as RecordClassification;
      const base = { sequenceNumber: record.sequenceNumber };
      if (c.kind === 'ignore') return { ...base, status: 'ignored' };

      let quarantine: Omit<QuarantineEntryInput, 'source' | 'recordId' | 'recordTime' | 'record' | 'origin'>;
      if (c.kind === 'event') {
        const outcome = outcomeByRecord.get(index);
        const eventId = c.envelope.id;
        const sequenceFailure = sequenceFailures.get(index);
        if (sequenceFailure !== undefined)
          return { ...base, status: 'failed', eventId, failure: sequenceFailure };
        if (outcome === undefined)
          return { ...base, status: 'failed', eventId, failure: 'no PutEvents outcome' };
        switch (outcome.status) {
          case 'published':
            return { ...base, status: 'published', eventId };
          case 'retryable-failed':
            return { ...base, status: 'failed', eventId, failure: outcome.errorCode };
          case 'permanently-rejected':
            quarantine = {
              reason: 'PUT_EVENTS_REJECTED',
              message: `EventBridge rejected the event: ${outcome.errorCode} (${outcome.errorMessage})`,
              details: { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage },
              eventId,
              tenantId: c.envelope.tenantId,
            };
            break;
          case 'too-large':
            quarantine = {
              reason: 'ENVELOPE_TOO_LARGE',
              message: `The event's bus entry is ${outcome.sizeBytes} bytes; the limit is ${outcome.limitBytes}`,
              details: { sizeBytes: outcome.sizeBytes, limitBytes: outcome.limitBytes },
              eventId,
              tenantId: c.envelope.tenantId,
            };
            break;
        }
      } else {
        quarantine = {
          reason: c.reason,
          message: c.message,
          ...(c.details !== undefined ? { details: c.details } : {}),
          ...(c.eventId !== undefined ? { eventId: c.eventId } : {}),
          ...(c.tenantId !== undefined ? { tenantId: c.tenantId } : {}),
        };
      }
      const reason = quarantine.reason;
      try {
        await ports.quarantine({
          ...quarantine,
          source: 'publisher',
          recordId: record.recordId,
          recordTime: record.approximateCreationTime ?? options.now.toISOString(),
          record: record.raw,
          origin: record.tableName,
        });
        return {
          ...base,
          status: 'quarantined',
          reason,
          ...(quarantine.eventId ? { eventId: quarantine.eventId } : {}),
        };
      } catch (error) {
        return { ...base, status: 'failed', reason, failure: `quarantine write failed: ${errorText(error)}` };
      }
    }),
  );

  // Hold back the later records of a failed record's partition key, so a retry keeps their order.
  const failedGroups: OrderKey[] = [];
  const final = results.map((result, index) => {
    const group: OrderKey = {
      table: (records[index] as ChangeRecord).tableName,
      key: classified[index]?.partitionKey,
    };
    if (result.status === 'failed') {
      failedGroups.push(group);
      return result;
    }
    if (failedGroups.some((failed) => sameOrderGroup(failed, group))) {
      return {
        ...result,
        status: 'failed' as const,
        failure: 'held back behind an earlier failed record of the same key',
      };
    }
    return result;
  });
  return {
    records: final,
    failedSequenceNumbers: final.filter((r) => r.status === 'failed').map((r) => r.sequenceNumber),
  };
}

/**
 * Give every event its sequence number (one assigner call per tenant+channel, in record order),
 * replacing its classification's envelope and entry in place; write outbox rows' numbers back.
 * Returns the failure text of each record whose number could not be assigned, and the write-backs
 * still running (settled, never rejecting: the caller overlaps them with PutEvents).
 */
async function numberEvents(
  records: readonly ChangeRecord[],
  classified: RecordClassification[],
  ports: PublishPorts,
  options: ClassifyOptions,
): Promise<{ failures: Map<number, string>; writeBacks: Promise<PromiseSettledResult<void>[]> }> {
  const assign = ports.assignSequences;
  const failures = new Map<number, string>();
  if (assign === undefined) return { failures, writeBacks: Promise.resolve([]) };
  const groups = new Map<string, { tenantId: string; channel: string; indexes: number[] }>();
  classified.forEach((c, index) => {
    if (c.kind !== 'event') return;
    const { tenantId, channel } = c.envelope;
    const key = JSON.stringify([tenantId, channel]);
    const group = groups.get(key) ?? { tenantId, channel, indexes: [] };
    group.indexes.push(index);
    groups.set(key, group);
  });
  const writeBacks: Promise<void>[] = [];
  await Promise.all(
    [...groups.values()].map(async ({ tenantId, channel, indexes }) => {
      const envelopeOf = (index: number) => {
        const c = classified[index];
        if (c?.kind !== 'event') throw new Error('unreachable: index of a non-event');
        return c;
      };
      let numbers: ReadonlyMap<string, SequenceNumber>;
      try {
        numbers = await assign(
          tenantId,
          channel,
          indexes.map((i) => envelopeOf(i).envelope.id),
        );
      } catch (error) {
        for (const i of indexes) failures.set(i, `sequence assignment failed: ${errorText(error)}`);
        return;
      }
      for (const index of indexes) {
        const c = envelopeOf(index);
        const number = numbers.get(c.envelope.id);
        if (number === undefined) {
          failures.set(index, 'sequence assignment returned no number');
          continue;
        }
        const envelope = { ...c.envelope, seq: number.seq, epoch: number.epoch };
        classified[index] = { ...c, envelope, entry: envelopeToBusEntry(envelope, options.eventBusName) };
        const record = records[index] as ChangeRecord;
        // Tracked tables belong to the application: only outbox rows get the number written back.
        if (ports.writeBackSequence && options.trackedTables[record.tableName] === undefined) {
          writeBacks.push(ports.writeBackSequence(record.tableName, record.keys, number));
        }
      }
    }),
  );
  return { failures, writeBacks: Promise.allSettled(writeBacks) };
}
