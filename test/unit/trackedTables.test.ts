import { describe, expect, it } from 'vitest';
import { toChangeRecord } from '../../src/core/dynamoStreamRecord.js';
import { classifyChangeRecord } from '../../src/core/streamRecord.js';
import {
  InvalidTrackedTablesConfigError,
  parseTrackedTablesConfig,
  trackedEventId,
} from '../../src/core/trackedTable.js';
import type { TrackedTableMapping } from '../../src/core/trackedTables.js';
import { streamArn, streamRecordFactory } from './publisherFactories.js';

const TABLE = 'PatchOperations';
const mapping: TrackedTableMapping = {
  tableName: TABLE,
  streamArn: streamArn(TABLE),
  tenantAttribute: 'tenantId',
  channel: 'patches',
  resourceIdAttribute: 'operationId',
  typePrefix: 'patch_operation',
};
const now = new Date('2026-11-20T12:00:00Z');

function classify(record: Record<string, unknown>, m: TrackedTableMapping = mapping) {
  return classifyChangeRecord(toChangeRecord(record, 0), { trackedTables: { [TABLE]: m }, now });
}

const item = {
  pk: 'OP#1',
  sk: 'v1',
  tenantId: 't1',
  operationId: 'op-1',
  status: 'open',
  tags: new Set(['a']),
};

describe('TRACKED_TABLES configuration', () => {
  it('reads a JSON array of mappings, keyed by table name', () => {
    expect(parseTrackedTablesConfig(JSON.stringify([mapping]))).toEqual({ [TABLE]: mapping });
    expect(parseTrackedTablesConfig(undefined)).toEqual({});
    expect(parseTrackedTablesConfig('  ')).toEqual({});
  });

  it('refuses invalid configuration with an error that names the problem', () => {
    expect(() => parseTrackedTablesConfig('{oops')).toThrow(InvalidTrackedTablesConfigError);
    expect(() => parseTrackedTablesConfig('{oops')).toThrow(/TRACKED_TABLES is invalid: not JSON/);
    const { tenantAttribute: _t, ...noTenant } = mapping;
    expect(() => parseTrackedTablesConfig(JSON.stringify([noTenant]))).toThrow(/0\.tenantAttribute/);
    expect(() => parseTrackedTablesConfig(JSON.stringify([mapping, mapping]))).toThrow(/mapped twice/);
  });
});

describe('tracked table change → event', () => {
  it('maps INSERT, MODIFY and REMOVE to .created, .updated and .deleted', () => {
    const created = classify(
      streamRecordFactory({ tableName: TABLE, keys: { pk: 'OP#1', sk: 'v1' }, newImage: item }),
    );
    expect(created).toMatchObject({
      kind: 'event',
      envelope: {
        source: `table/${TABLE}`,
        tenantId: 't1',
        channel: 'patches',
        type: 'patch_operation.created',
        resourceId: 'op-1',
        data: { status: 'open', tags: ['a'] },
      },
    });
    const updated = classify(
      streamRecordFactory({
        tableName: TABLE,
        eventName: 'MODIFY',
        keys: { pk: 'OP#1', sk: 'v1' },
        newImage: item,
      }),
    );
    expect(updated).toMatchObject({ kind: 'event', envelope: { type: 'patch_operation.updated' } });
    const deleted = classify(
      streamRecordFactory({
        tableName: TABLE,
        eventName: 'REMOVE',
        keys: { pk: 'OP#1', sk: 'v1' },
        newImage: null,
        oldImage: item,
      }),
    );
    expect(deleted).toMatchObject({
      kind: 'event',
      envelope: { type: 'patch_operation.deleted', data: { status: 'open' } },
    });
  });

  it('uses explicit event types, and skips a change mapped to null', () => {
    const m = { ...mapping, eventTypes: { MODIFY: 'patch_operation.changed', REMOVE: null } };
    const record = (eventName: 'MODIFY' | 'REMOVE') =>
      streamRecordFactory({
        tableName: TABLE,
        eventName,
        keys: { pk: 'OP#1', sk: 'v1' },
        newImage: item,
        oldImage: item,
      });
    expect(classify(record('MODIFY'), m)).toMatchObject({ envelope: { type: 'patch_operation.changed' } });
    expect(classify(record('REMOVE'), m)).toMatchObject({ kind: 'ignore' });
  });

  it('derives the event id from the stream record, so a redelivery is the same event', () => {
    const raw = streamRecordFactory({
      tableName: TABLE,
      eventID: 'abc',
      keys: { pk: 'OP#1', sk: 'v1' },
      newImage: item,
    });
    const first = classify(raw);
    const again = classify(structuredClone(raw));
    if (first.kind !== 'event' || again.kind !== 'event') throw new Error('expected events');
    expect(first.envelope.id).toBe(again.envelope.id);
    expect(first.envelope.id).toBe(trackedEventId(TABLE, 'abc'));
    expect(first.envelope.time).toBe(new Date(1_795_000_000 * 1000).toISOString());
    expect(trackedEventId(TABLE, 'abd')).not.toBe(first.envelope.id);
  });

  it('reads the channel from an attribute, and defaults resourceId to the item key', () => {
    const { channel: _c, resourceIdAttribute: _r, ...rest } = mapping;
    const m: TrackedTableMapping = { ...rest, channelAttribute: 'board' };
    const result = classify(
      streamRecordFactory({
        tableName: TABLE,
        keys: { pk: 'OP#1', sk: 'v1' },
        newImage: { ...item, board: 'b-7' },
      }),
      m,
    );
    expect(result).toMatchObject({ kind: 'event', envelope: { channel: 'b-7', resourceId: 'OP%231#v1' } });
  });

  it('quarantines a change without tenant as MISSING_TENANT, and without channel as INVALID_ROW', () => {
    const { tenantId: _t, ...noTenant } = item;
    expect(
      classify(streamRecordFactory({ tableName: TABLE, keys: { pk: 'OP#1', sk: 'v1' }, newImage: noTenant })),
    ).toMatchObject({
      kind: 'quarantine',
      reason: 'MISSING_TENANT',
    });
    const { channel: _c, ...rest } = mapping;
    expect(
      classify(streamRecordFactory({ tableName: TABLE, keys: { pk: 'OP#1', sk: 'v1' }, newImage: item }), {
        ...rest,
        channelAttribute: 'board',
      }),
    ).toMatchObject({ kind: 'quarantine', reason: 'INVALID_ROW' });
  });

  it('reads records of other tables as outbox rows', () => {
    const result = classifyChangeRecord(toChangeRecord(streamRecordFactory(), 0), {
      trackedTables: { [TABLE]: mapping },
      now,
    });
    expect(result).toMatchObject({ kind: 'event', envelope: { source: 'outbox' } });
  });
});
