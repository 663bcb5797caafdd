/**
 * Per-subject records stored compactly: whatever the names (separators, escapes, multi-byte text,
 * NUL), grouping them into deliveries items and digests and expanding those again gives back
 * exactly the records, per subject and per event, as one item per record would have held them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_SUBJECT_DELIVERIES_SK_PREFIX,
  AUDIT_SUBJECT_DIGEST_SK_PREFIX,
  type AuditSubjectItem,
  type SubjectOutcome,
  type SubjectRecord,
  subjectKeyOf,
  toAuditSubjectItem,
} from '../../src/core/auditRecord.js';
import { itemSizeBytes, utf8Bytes } from '../../src/core/itemSize.js';
import { decodeKey } from '../../src/core/keyCodec.js';
import { DYNAMODB_MAX_ITEM_BYTES } from '../../src/core/limits.js';
import { NAME_MAX_BYTES } from '../../src/core/names.js';
import {
  auditSubjectDeliveriesItemSchema,
  auditSubjectDigestItemSchema,
  compactSubjectRecords,
  expandSubjectItem,
  latestSubjectItems,
  SUBJECT_ITEM_MAX_ENTRIES,
  subjectRecordsOfSummary,
  summaryKeyOf,
  summarySubjectsByEvent,
  summarySubjectsSchema,
} from '../../src/core/subjectItems.js';

const hostileName = fc.oneof(
  fc.constantFrom('a', 'b', 'a#b', '#', '%23', '%', 'x\u0000y', 'é', '👩‍💻'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('#', '%', '2', '3', 'a', '\u0000'), minLength: 1, maxLength: 6 }),
);
const outcome = fc.constantFrom<SubjectOutcome>('delivered', 'gone', 'failed', 'refresh', 'replayed');
const times = ['2026-11-30T09:00:00.000Z', '2026-11-30T09:00:00.001Z', '2026-11-30T10:00:00.000Z'];

const record: fc.Arbitrary<SubjectRecord> = fc
  .record({
    tenantId: fc.constantFrom('t1', 't#2'),
    eventId: hostileName,
    subject: hostileName,
    connectionId: fc.constantFrom('c1', 'c2', 'c#3'),
    outcome,
    channel: fc.constantFrom('orders', 'o#x'),
    type: fc.option(fc.constantFrom('order.created', 'x#y'), { nil: undefined }),
    at: fc.constantFrom(...times),
  })
  .map(({ type, ...rest }) => (type ? { ...rest, type } : rest));

const readDeliveries = (item: unknown) => auditSubjectDeliveriesItemSchema.parse(item);
const readDigest = (item: unknown) => auditSubjectDigestItemSchema.parse(item);

let counter = 0;
const newId = (ms: number) => `${ms}-${(counter++).toString().padStart(8, '0')}`;

/** The records as one item each, the latest kept: what the table held before compaction. */
function asSingleItems(records: readonly SubjectRecord[]): Map<string, AuditSubjectItem> {
  return new Map(latestSubjectItems(records.map(toAuditSubjectItem)).map((i) => [`${i.pk}|${i.sk}`, i]));
}
/** What a reader gets back: the same key, the latest time, the same fields. */
const view = (items: Iterable<AuditSubjectItem>) =>
  new Map([...latestSubjectItems(items)].map((i) => [`${i.pk}|${i.sk}`, i.at]));

const fanout = (events: number, subscribers: number): SubjectRecord[] =>
  Array.from({ length: events * subscribers }, (_, i) => ({
    tenantId: 't1',
    eventId: `evt-${Math.floor(i / subscribers)}`,
    subject: `agent-${i % subscribers}`,
    connectionId: `conn-${i % subscribers}`,
    outcome: 'delivered',
    channel: 'orders',
    type: 'order.created',
    at: times[0] as string,
  }));

describe('compactSubjectRecords', () => {
  it('gives back every record, per subject and per event, through the deliveries items and the digests', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (records) => {
        const { deliveries, digests } = compactSubjectRecords(records, newId);
        const expected = view(asSingleItems(records).values());
        expect(view(deliveries.flatMap(({ item }) => expandSubjectItem(readDeliveries(item))))).toEqual(
          expected,
        );
        expect(view(digests.flatMap(({ item }) => expandSubjectItem(readDigest(item))))).toEqual(expected);
        // Every record is held by exactly one deliveries item and one digest.
        for (const group of [deliveries, digests]) {
          const held = group.flatMap(({ records: r }) => r).sort((a, b) => a - b);
          expect(held).toEqual(records.map((_, i) => i));
        }
      }),
    );
  });

  it('keeps the channel and type of each event and the subject key the index reads', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (records) => {
        const { deliveries, digests } = compactSubjectRecords(records, newId);
        for (const { item } of deliveries) {
          expect(auditSubjectDeliveriesItemSchema.safeParse(item).success).toBe(true);
          expect(item.sk.startsWith(AUDIT_SUBJECT_DELIVERIES_SK_PREFIX)).toBe(true);
          expect(item.pk).toBe(subjectKeyOf(item.tenantId, item.subject));
          expect(decodeKey(item.pk)).toEqual(['SUBJ', item.tenantId, item.subject]);
        }
        for (const { item } of digests) {
          expect(auditSubjectDigestItemSchema.safeParse(item).success).toBe(true);
          expect(item.sk.startsWith(AUDIT_SUBJECT_DIGEST_SK_PREFIX)).toBe(true);
          expect(decodeKey(item.pk)).toEqual(['EVT', item.tenantId, item.eventId]);
        }
        const expanded = deliveries.flatMap(({ item }) => expandSubjectItem(readDeliveries(item)));
        for (const r of records) {
          const found = expanded.find(
            (e) =>
              e.tenantId === r.tenantId &&
              e.eventId === r.eventId &&
              e.subject === r.subject &&
              e.connectionId === r.connectionId &&
              e.outcome === r.outcome &&
              e.at === r.at,
          );
          expect(found?.channel).toBe(r.channel);
        }
      }),
    );
  });

  it('refuses a stored list that is not JSON of entries, rather than reading half of it', () => {
    const { deliveries, digests } = compactSubjectRecords(fanout(2, 2), newId);
    for (const events of ['', 'not json', '[]', '[["id"]]', '{"id":"x"}', '[["id","c",5]]'])
      expect(auditSubjectDeliveriesItemSchema.safeParse({ ...deliveries[0]?.item, events }).success).toBe(
        false,
      );
    for (const entries of ['[["s","c","sent"]]', '[["s","c"]]', 'null'])
      expect(auditSubjectDigestItemSchema.safeParse({ ...digests[0]?.item, entries }).success).toBe(false);
  });
});

describe('summarySubjectsByEvent', () => {
  const keyOf = (r: Pick<SubjectRecord, 'tenantId' | 'eventId' | 'subject' | 'connectionId' | 'outcome'>) =>
    JSON.stringify([r.tenantId, r.eventId, r.subject, r.connectionId, r.outcome]);

  it('carries in each summary exactly the subjects of its event, whatever the names', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), (records) => {
        const carried = summarySubjectsByEvent(records);
        expect(carried).toBeDefined();
        const back = new Set<string>();
        for (const r of records) {
          const text = carried?.get(summaryKeyOf(r.tenantId, r.eventId));
          expect(text).toBeDefined();
          const subjects = summarySubjectsSchema.parse(text);
          for (const item of subjectRecordsOfSummary(r, subjects, { channel: r.channel, type: 'x' }))
            back.add(keyOf(item));
        }
        expect(back).toEqual(new Set(records.map(keyOf)));
        expect(carried?.size).toBe(new Set(records.map((r) => summaryKeyOf(r.tenantId, r.eventId))).size);
      }),
    );
  });

  it(`leaves events with more than ${SUBJECT_ITEM_MAX_ENTRIES} subjects to digests`, () => {
    expect(summarySubjectsByEvent(fanout(1, SUBJECT_ITEM_MAX_ENTRIES))?.size).toBe(1);
    expect(summarySubjectsByEvent(fanout(1, SUBJECT_ITEM_MAX_ENTRIES + 1))).toBeUndefined();
  });
});

describe('item sizes at the name limits', () => {
  // Every name at its byte limit in 4-byte characters, and a type of 256 control characters
  // (each escaped to 6 bytes in JSON): the largest items the fan-out can write.
  const emoji = '\u{1F600}';
  const atLimit = (bytes: number, tag: number) =>
    `${emoji.repeat(bytes / 4 - 1)}${String(tag).padStart(4, '0')}`;
  const worst: SubjectRecord[] = Array.from({ length: 100 * 100 }, (_, i) => ({
    tenantId: atLimit(NAME_MAX_BYTES.tenantId, 0),
    eventId: atLimit(NAME_MAX_BYTES.eventId, Math.floor(i / 100)),
    subject: atLimit(NAME_MAX_BYTES.subject, i % 100),
    connectionId: `${'C'.repeat(60)}${String(i % 100).padStart(4, '0')}`,
    outcome: 'delivered',
    channel: atLimit(NAME_MAX_BYTES.channel, 0),
    type: '\u0001'.repeat(256),
    at: times[0] as string,
  }));

  it('keeps a deliveries item, a digest and the subjects a summary carries under 400 KB', () => {
    const { deliveries, digests } = compactSubjectRecords(worst, newId);
    expect(deliveries).toHaveLength(100);
    expect(digests).toHaveLength(100);
    const largest = Math.max(...[...deliveries, ...digests].map(({ item }) => itemSizeBytes(item)));
    expect(largest).toBeGreaterThan(50 * 1024); // the names really are long
    // 190 KB for a deliveries item of 100 such events (the escaped types), 34 KB for a digest.
    expect(largest).toBeLessThanOrEqual(DYNAMODB_MAX_ITEM_BYTES);
    const carried = [...(summarySubjectsByEvent(worst)?.values() ?? [])];
    expect(carried).toHaveLength(100);
    expect(Math.max(...carried.map(utf8Bytes))).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES / 4);
    // And the lists read back whole.
    expect(auditSubjectDeliveriesItemSchema.parse(deliveries[0]?.item).events).toHaveLength(100);
  });
});

describe('the write count', () => {
  it('has no digests when the summaries carry the subjects', () => {
    const { deliveries, digests } = compactSubjectRecords(fanout(100, 100), newId, { digests: false });
    expect(deliveries).toHaveLength(100);
    expect(digests).toHaveLength(0);
  });

  it('is one item per connection and one per event, not one per event and subscriber', () => {
    const { deliveries, digests } = compactSubjectRecords(fanout(100, 100), newId);
    expect(deliveries).toHaveLength(100);
    expect(digests).toHaveLength(100);
    expect(deliveries.every(({ item }) => readDeliveries(item).events.length === 100)).toBe(true);
  });

  it(`holds at most ${SUBJECT_ITEM_MAX_ENTRIES} entries per item, splitting wider writes`, () => {
    const { deliveries, digests } = compactSubjectRecords(fanout(250, 3), newId);
    expect(deliveries).toHaveLength(9); // 3 connections × ⌈250 / 100⌉
    expect(Math.max(...deliveries.map(({ item }) => readDeliveries(item).events.length))).toBe(
      SUBJECT_ITEM_MAX_ENTRIES,
    );
    const wide = compactSubjectRecords(fanout(1, 250), newId).digests;
    expect(wide.map(({ item }) => readDigest(item).entries.length)).toEqual([100, 100, 50]);
    expect(digests).toHaveLength(250);
  });

  it('names two writes in the same millisecond apart, so neither overwrites the other', () => {
    const one = compactSubjectRecords(fanout(1, 1), newId);
    const two = compactSubjectRecords(fanout(1, 1), newId);
    expect(one.deliveries[0]?.item.sk).not.toBe(two.deliveries[0]?.item.sk);
    expect(one.digests[0]?.item.sk).not.toBe(two.digests[0]?.item.sk);
  });
});
