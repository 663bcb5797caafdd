import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { itemSizeBytes, truncateUtf8, utf8Bytes } from '../../src/core/itemSize.js';
import { DYNAMODB_MAX_ITEM_BYTES } from '../../src/core/limits.js';
import {
  QUARANTINE_MAX_ITEM_BYTES,
  QUARANTINE_MAX_RECORD_BYTES,
  type QuarantineEntryInput,
  toQuarantineItem,
} from '../../src/core/quarantine.js';

const entry: QuarantineEntryInput = {
  reason: 'INVALID_ROW',
  message: 'data is not an object',
  source: 'publisher',
  recordId: 'stream-1',
  recordTime: '2026-11-20T10:00:00.000Z',
  record: {},
  origin: 'outbox-relay-outbox',
};

describe('item size and byte truncation', () => {
  it('truncates to a prefix within the byte budget that never splits a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(800), (text, maxBytes) => {
        const cut = truncateUtf8(text, maxBytes);
        expect(utf8Bytes(cut)).toBeLessThanOrEqual(Math.max(maxBytes, 0));
        // A prefix of the original text, code point for code point (no U+FFFD from a split sequence).
        expect(text.startsWith(cut) || Buffer.from(text, 'utf8').toString('utf8').startsWith(cut)).toBe(true);
        if (utf8Bytes(text) <= maxBytes) expect(cut).toBe(text);
      }),
    );
  });

  it('counts UTF-8 bytes of names and values, not characters', () => {
    expect(itemSizeBytes({ a: '€' })).toBe(1 + 3);
    // name + value: pk 2+1; n 1+(1+3 for five digits); m 1+(3 + 1+1+2); l 1+(3 + 1+1 + 1+1)
    expect(itemSizeBytes({ pk: 'x', n: 12345, m: { k: 'é' }, l: [true, null] })).toBe(3 + 5 + 8 + 8);
  });
});

describe("quarantine items stay under DynamoDB's item limit", () => {
  it('caps a 409 KB multi-byte record by bytes and points at where the whole row is', () => {
    const record = {
      eventID: 'stream-1',
      dynamodb: {
        Keys: { pk: { S: 't#c' }, sk: { S: 'e1' } },
        NewImage: { data: { S: '日本'.repeat(70_000) } },
      },
    };
    const item = toQuarantineItem({ ...entry, record }, new Date('2026-11-20T10:00:01Z'));
    expect(item.recordTruncated).toBe(true);
    expect(utf8Bytes(item.record)).toBeLessThanOrEqual(QUARANTINE_MAX_RECORD_BYTES);
    expect(itemSizeBytes(item)).toBeLessThan(DYNAMODB_MAX_ITEM_BYTES);
    expect(JSON.parse(item.recordRef ?? '{}')).toEqual({
      origin: 'outbox-relay-outbox',
      keys: { pk: { S: 't#c' }, sk: { S: 'e1' } },
    });
  });

  it('keeps any record, message and details within the item limit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 50 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        (unit, recordRepeat, detailRepeat) => {
          const text = unit.length === 0 ? 'x' : unit;
          const item = toQuarantineItem(
            {
              ...entry,
              message: text.repeat(100),
              record: { blob: text.repeat(Math.floor(recordRepeat / text.length) + 1) },
              details: { issue: text.repeat(Math.floor(detailRepeat / text.length) + 1) },
            },
            new Date('2026-11-20T10:00:01Z'),
          );
          expect(itemSizeBytes(item)).toBeLessThanOrEqual(QUARANTINE_MAX_ITEM_BYTES);
        },
      ),
      { numRuns: 40 },
    );
  });
});
