import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { batchResponse, parseSqsRecords, sentAt, sqsRecordSchema } from '../../src/aws/sqsBatch.js';
import { sqsRecordFactory } from '../helpers/envelopes.js';

describe('SQS batch adapter', () => {
  it('parses every record and keeps the fields it does not name', () => {
    const records = parseSqsRecords({ Records: [sqsRecordFactory('{}', 'm1')] }, sqsRecordSchema);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ messageId: 'm1', body: '{}', eventSource: 'aws:sqs' });
  });

  it('fails the whole batch on a record it cannot report alone', () => {
    expect(() => parseSqsRecords({ Records: [{ body: 'x' }] }, sqsRecordSchema)).toThrow(z.ZodError);
    expect(() => parseSqsRecords({}, sqsRecordSchema)).toThrow(z.ZodError);
  });

  it('reports each failed message once, and none as an empty list', () => {
    expect(batchResponse([])).toEqual({ batchItemFailures: [] });
    expect(batchResponse(['a', 'b', 'a'])).toEqual({
      batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }],
    });
  });

  it('reads the send time, falling back where it is missing or not a time', () => {
    expect(sentAt({ attributes: { SentTimestamp: '1795000000000' } }).getTime()).toBe(1795000000000);
    expect(sentAt({ attributes: { SentTimestamp: 'soon' } }, () => 42).getTime()).toBe(42);
    expect(sentAt({}, () => 42).getTime()).toBe(42);
  });
});
