/**
 * DynamoDB Streams records (as the SDK returns them) → the AWS Lambda DynamoDBStreamEvent record
 * shape: binary attributes as base64, ApproximateCreationDateTime in epoch seconds, plus
 * `eventSourceARN`.
 */
import type { _Record, AttributeValue as StreamAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from 'aws-lambda';

export function toLambdaStreamRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  return {
    ...(record.eventID !== undefined ? { eventID: record.eventID } : {}),
    ...(record.eventName !== undefined ? { eventName: record.eventName } : {}),
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? 'us-east-1',
    dynamodb: {
      ...(stream.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      ...(stream.Keys ? { Keys: toLambdaItem(stream.Keys) } : {}),
      ...(stream.NewImage ? { NewImage: toLambdaItem(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: toLambdaItem(stream.OldImage) } : {}),
      ...(stream.SequenceNumber !== undefined ? { SequenceNumber: stream.SequenceNumber } : {}),
      ...(stream.SizeBytes !== undefined ? { SizeBytes: stream.SizeBytes } : {}),
      ...(stream.StreamViewType !== undefined ? { StreamViewType: stream.StreamViewType } : {}),
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}

function toLambdaItem(item: Record<string, StreamAttributeValue>): Record<string, LambdaAttributeValue> {
  const out: Record<string, LambdaAttributeValue> = {};
  for (const [name, value] of Object.entries(item)) out[name] = toLambdaValue(value);
  return out;
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function toLambdaValue(value: StreamAttributeValue): LambdaAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaItem(value.M) };
  // The SDK's schema deserializer drops an empty map's member (`{"M":{}}` arrives as `{}`); no
  // other type can arrive without a member, so restore it rather than lose `data: {}`.
  if (Object.keys(value).length === 0) return { M: {} };
  // An attribute value names exactly one type; an unknown one (newer API) is kept as NULL.
  return { NULL: true };
}
