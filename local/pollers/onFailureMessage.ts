/**
 * What a stream mapping's SQS/SNS on-failure destination receives: metadata only (the shard and
 * the sequence range), never the records, in the shape AWS documents for DynamoDB Streams.
 */
import { randomUUID } from 'node:crypto';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface StreamOnFailureMessage {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: 'Unhandled';
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

export function onFailureMessage(input: {
  shardId: string;
  streamArn: string;
  records: readonly _Record[];
  condition: FailureCondition;
  invocations: number;
  /** The last invocation threw (as opposed to returning a partial batch response). */
  functionError: boolean;
  functionArn: string;
}): StreamOnFailureMessage {
  const first = input.records[0]?.dynamodb;
  const last = input.records.at(-1)?.dynamodb;
  const arrival = (date: Date | undefined) => (date ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invocations,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(input.functionError ? { functionError: 'Unhandled' as const } : {}),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first?.SequenceNumber ?? '',
      endSequenceNumber: last?.SequenceNumber ?? '',
      approximateArrivalOfFirstRecord: arrival(first?.ApproximateCreationDateTime),
      approximateArrivalOfLastRecord: arrival(last?.ApproximateCreationDateTime),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}
