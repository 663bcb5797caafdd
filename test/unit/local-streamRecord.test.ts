import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, it } from 'vitest';
import { toLambdaStreamRecord } from '../../local/pollers/streamRecord.js';

describe('stream record conversion (SDK → Lambda event shape)', () => {
  it('keeps an empty map, which the SDK hands over without its type member', () => {
    // What GetRecords returns for an item written with `data: { M: {} }` and `tags: { L: [] }`.
    const record = {
      eventID: 'e1',
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: '1',
        NewImage: { pk: { S: 't#c' }, data: {}, tags: { L: [] } },
      },
    } as unknown as _Record;

    const converted = toLambdaStreamRecord(record, 'arn:aws:dynamodb:us-east-1:0:table/outbox/stream/x');

    expect(converted.dynamodb?.NewImage).toEqual({ pk: { S: 't#c' }, data: { M: {} }, tags: { L: [] } });
  });
});
