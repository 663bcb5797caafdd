import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { attributeToJson } from '../../src/core/attributeValue.js';
import { toChangeRecord } from '../../src/core/dynamoStreamRecord.js';
import { type ClassifyOptions, classifyChangeRecord } from '../../src/core/streamRecord.js';
import { OUTBOX_TABLE_NAME, outboxRowInputFactory, streamRecordFactory } from './publisherFactories.js';

const options: ClassifyOptions = {
  trackedTables: {},
  eventBusName: 'bus',
  now: new Date('2026-11-20T12:00:00Z'),
};

function classify(raw: Record<string, unknown>, opts: Partial<ClassifyOptions> = {}) {
  return classifyChangeRecord(toChangeRecord(raw, 0), { ...options, ...opts });
}

describe('outbox stream record → envelope', () => {
  it('turns a valid INSERT into the envelope and its bus entry', () => {
    const row = outboxRowInputFactory({ occurredAt: '2026-11-20T11:00:00+01:00' });
    const result = classify(streamRecordFactory({ newImage: { ...row, expiresAt: 1_900_000_000 } }));
    expect(result).toMatchObject({
      kind: 'event',
      partitionKey: 'tenant-a#orders',
      envelope: {
        version: 1,
        id: row.eventId,
        source: 'outbox',
        tenantId: 'tenant-a',
        channel: 'orders',
        type: 'order.created',
        resourceId: row.resourceId,
        time: '2026-11-20T10:00:00.000Z',
        position: `2026-11-20T10:00:00.000Z#${row.eventId}`,
        data: row.data,
      },
      entry: { Source: 'outbox-relay', DetailType: 'order.created', EventBusName: 'bus' },
    });
  });

  it('ignores REMOVE records (TTL expiry of a published row)', () => {
    const result = classify(
      streamRecordFactory({
        eventName: 'REMOVE',
        newImage: null,
        keys: { pk: 'tenant-a#orders', sk: 'e1' },
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
      }),
    );
    expect(result.kind).toBe('ignore');
  });

  it('ignores a MODIFY (the sequence write-back): the event went out, numbered, on INSERT', () => {
    const row = outboxRowInputFactory();
    const result = classify(
      streamRecordFactory({ eventName: 'MODIFY', newImage: { ...row, seq: 4, epoch: 'ep' } }),
    );
    expect(result).toMatchObject({ kind: 'ignore', why: 'outbox row modified' });
  });

  it('quarantines a row without tenant as MISSING_TENANT', () => {
    const { tenantId: _t, ...row } = outboxRowInputFactory();
    const result = classify(
      streamRecordFactory({ newImage: row, keys: { pk: 'x#orders', sk: row.eventId } }),
    );
    expect(result).toMatchObject({ kind: 'quarantine', reason: 'MISSING_TENANT', eventId: row.eventId });
  });

  it('accepts data stored as a JSON string holding an object', () => {
    const row = outboxRowInputFactory();
    const result = classify(streamRecordFactory({ newImage: { ...row, data: JSON.stringify({ a: 1 }) } }));
    expect(result).toMatchObject({ kind: 'event', envelope: { data: { a: 1 } } });
  });

  it('quarantines data that is a string but not a JSON object as BAD_JSON', () => {
    for (const data of ['{not json', '[1,2]', '"text"']) {
      const result = classify(streamRecordFactory({ newImage: { ...outboxRowInputFactory(), data } }));
      expect(result).toMatchObject({ kind: 'quarantine', reason: 'BAD_JSON' });
    }
  });

  it('quarantines a row that breaks the contract as INVALID_ROW with the zod issues', () => {
    const { type: _type, ...row } = outboxRowInputFactory();
    const result = classify(streamRecordFactory({ newImage: { ...row, occurredAt: 'yesterday' } }));
    expect(result).toMatchObject({ kind: 'quarantine', reason: 'INVALID_ROW' });
    if (result.kind !== 'quarantine') throw new Error('expected quarantine');
    const issues = z.array(z.object({ path: z.string() })).parse(result.details?.issues);
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(['occurredAt', 'type']);
    expect(result.message).toContain('type');
  });

  it('quarantines an envelope over the bus limit as ENVELOPE_TOO_LARGE', () => {
    const row = outboxRowInputFactory({ data: { blob: 'x'.repeat(3000) } });
    const result = classify(streamRecordFactory({ newImage: row }), { maxEntryBytes: 2048 });
    expect(result).toMatchObject({ kind: 'quarantine', reason: 'ENVELOPE_TOO_LARGE', eventId: row.eventId });
  });

  it('quarantines a record without a new image as UNMAPPED_RECORD', () => {
    const result = classify(streamRecordFactory({ newImage: null, keys: { pk: 'a#b', sk: 'c' } }));
    expect(result).toMatchObject({ kind: 'quarantine', reason: 'UNMAPPED_RECORD' });
  });

  it('quarantines a record it cannot read (unknown attribute type, missing fields) as UNMAPPED_RECORD', () => {
    const raw = streamRecordFactory();
    const broken = { ...raw, dynamodb: { ...(raw.dynamodb as object), NewImage: { data: { X: 'what' } } } };
    expect(classify(broken)).toMatchObject({ kind: 'quarantine', reason: 'UNMAPPED_RECORD' });
    const noName = { ...raw, eventName: undefined };
    const record = toChangeRecord(noName, 3);
    expect(record.readError).toContain('eventName');
    expect(record.tableName).toBe(OUTBOX_TABLE_NAME);
  });
});

describe('attributeToJson', () => {
  it('makes JSON values: sets as arrays, binary as base64, huge integers as text', () => {
    expect(attributeToJson({ SS: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(attributeToJson({ NS: ['1', '2.5'] })).toEqual([1, 2.5]);
    expect(attributeToJson({ B: new Uint8Array([1, 2, 3]) })).toBe('AQID');
    expect(attributeToJson({ N: '123456789012345678901234567890' })).toBe('123456789012345678901234567890');
    expect(attributeToJson({ M: { a: { L: [{ NULL: true }, { BOOL: false }] } } })).toEqual({
      a: [null, false],
    });
  });

  it('names the attribute it cannot read', () => {
    expect(() => attributeToJson({ M: { a: { M: { b: { N: 'abc' } } } } })).toThrow(/a\.b/);
  });
});
