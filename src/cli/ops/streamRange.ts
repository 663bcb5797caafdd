/**
 * Re-reading a range of a DynamoDB stream shard (publisher DLQ redrive). Streams keep records for
 * 24 hours; past that the range is gone and the redrive says so rather than guessing.
 */
import {
  type _Record,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { sequenceAfter } from './publisherFailure.js';

export class StreamRangeUnavailableError extends Error {
  override readonly name = 'StreamRangeUnavailableError';
}

export interface StreamRange {
  readonly streamArn: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
}

/** At most this many empty pages before giving up on reaching the end of the range. */
const MAX_EMPTY_PAGES = 5;

/** The records of `range` (inclusive), in stream order. */
export async function readStreamRange(
  streams: DynamoDBStreamsClient,
  range: StreamRange,
): Promise<_Record[]> {
  const records: _Record[] = [];
  try {
    const iterator = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: range.streamArn,
        ShardId: range.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: range.startSequenceNumber,
      }),
    );
    let next = iterator.ShardIterator;
    let emptyPages = 0;
    while (next && emptyPages < MAX_EMPTY_PAGES) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
      const batch = page.Records ?? [];
      if (batch.length === 0) emptyPages += 1;
      for (const record of batch) {
        const sequence = record.dynamodb?.SequenceNumber;
        if (sequence === undefined) continue;
        if (sequenceAfter(sequence, range.endSequenceNumber)) return records;
        records.push(record);
        if (sequence === range.endSequenceNumber) return records;
      }
      next = page.NextShardIterator;
    }
    return records;
  } catch (error) {
    if (
      error instanceof TrimmedDataAccessException ||
      error instanceof ResourceNotFoundException ||
      error instanceof ExpiredIteratorException
    ) {
      throw new StreamRangeUnavailableError(
        `stream ${range.streamArn} no longer holds shard ${range.shardId} from ${range.startSequenceNumber} (${error.name}): records are kept 24 h`,
      );
    }
    throw error;
  }
}
