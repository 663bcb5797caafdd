import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CheckpointStore, createMemoryCheckpointStore } from '../../local/pollers/checkpoints.js';
import type { StreamOnFailureMessage } from '../../local/pollers/onFailureMessage.js';
import {
  type StreamMappingSettings,
  type StreamPoller,
  startStreamPoller,
} from '../../local/pollers/streamPoller.js';
import { waitFor } from '../helpers/waitFor.js';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/outbox/stream/2026-01-01T00:00:00.000';
const SHARD = 'shardId-0001';
const MAPPING_ID = 'publisher:outbox';

const streams = mockClient(DynamoDBStreamsClient);
let poller: StreamPoller | undefined;

function record(sequence: number, createdAt = new Date()): _Record {
  return {
    eventID: `ev-${sequence}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: createdAt,
      Keys: { pk: { S: 't#c' }, sk: { S: `e${sequence}` } },
      NewImage: { pk: { S: 't#c' }, sk: { S: `e${sequence}` }, blob: { B: new Uint8Array([1, 2]) } },
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 20,
      StreamViewType: 'NEW_IMAGE',
    },
  };
}
const seq = (n: number) => String(n).padStart(21, '0');

/** One shard holding `records`, delivered by the first read; later reads find nothing new. */
function shardWith(records: _Record[]): void {
  streams.on(DescribeStreamCommand).resolves({
    StreamDescription: {
      StreamArn: STREAM_ARN,
      Shards: [{ ShardId: SHARD, SequenceNumberRange: { StartingSequenceNumber: seq(1) } }],
    },
  });
  streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-start' });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'it-start' })
    .resolves({ Records: records, NextShardIterator: 'it-next' });
  streams
    .on(GetRecordsCommand, { ShardIterator: 'it-next' })
    .resolves({ Records: [], NextShardIterator: 'it-next' });
}

interface Harness {
  invocations: string[][];
  onFailure: StreamOnFailureMessage[];
  checkpoints: CheckpointStore;
}

function start(
  mapping: Partial<StreamMappingSettings>,
  handler: (event: DynamoDBStreamEvent, call: number) => unknown,
  checkpoints: CheckpointStore = createMemoryCheckpointStore(),
  onNotice?: (line: string) => void,
): Harness {
  const harness: Harness = { invocations: [], onFailure: [], checkpoints };
  poller = startStreamPoller({
    mappingId: MAPPING_ID,
    mapping: {
      function: 'publisher',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      bisectBatchOnError: false,
      maxRetryAttempts: 3,
      maxRecordAgeSeconds: -1,
      startingPosition: 'TRIM_HORIZON',
      ...mapping,
    },
    streamArn: STREAM_ARN,
    client: new DynamoDBStreamsClient({ region: 'us-east-1' }),
    invoke: async (_name, event) => {
      harness.invocations.push(event.Records.map((r) => String(Number(r.dynamodb?.SequenceNumber))));
      return handler(event, harness.invocations.length);
    },
    checkpoints,
    sendToOnFailure: async (body) => {
      harness.onFailure.push(JSON.parse(body));
    },
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:publisher',
    pollIntervalMs: 10,
    retryDelayMs: () => 0,
    ...(onNotice ? { onNotice } : {}),
  });
  return harness;
}

const checkpointOf = (harness: Harness) =>
  harness.checkpoints.shards(MAPPING_ID, STREAM_ARN)[SHARD]?.sequenceNumber;
const drained = (sequence: number) => (harness: Harness) => checkpointOf(harness) === seq(sequence);

beforeEach(() => streams.reset());
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

describe('stream poller (Lambda DynamoDB Streams event source semantics)', () => {
  it('delivers records in the Lambda DynamoDBStreamEvent shape and checkpoints the batch', async () => {
    shardWith([record(1), record(2)]);
    const events: DynamoDBStreamEvent[] = [];
    const harness = start({}, (event) => {
      events.push(event);
    });
    await waitFor(() => drained(2)(harness), { timeoutMs: 10_000 });
    const first = events[0]?.Records[0];
    expect(first).toMatchObject({
      eventID: 'ev-1',
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: STREAM_ARN,
      dynamodb: {
        SequenceNumber: seq(1),
        NewImage: { sk: { S: 'e1' }, blob: { B: 'AQI=' } },
        StreamViewType: 'NEW_IMAGE',
      },
    });
    expect(typeof first?.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(harness.invocations).toEqual([['1', '2']]);
  });

  it('checkpoints past records its filter drops, so an idle stream shows no lag', async () => {
    const modified = (n: number): _Record => ({ ...record(n), eventName: 'MODIFY' });
    shardWith([record(1), record(2), modified(3), modified(4)]);
    const harness = start({ filterEventNames: ['INSERT'] }, () => ({ batchItemFailures: [] }));
    await waitFor(() => drained(4)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([['1', '2']]);
  });

  it('restarts a partially failed batch from the lowest failed sequence number', async () => {
    shardWith([1, 2, 3, 4, 5].map((n) => record(n)));
    const harness = start({}, (_event, call) =>
      call === 1
        ? { batchItemFailures: [{ itemIdentifier: seq(4) }, { itemIdentifier: seq(3) }] }
        : { batchItemFailures: [] },
    );
    await waitFor(() => drained(5)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
    expect(harness.onFailure).toHaveLength(0);
  });

  it('treats an empty or unknown itemIdentifier as a failure of the whole batch', async () => {
    shardWith([1, 2, 3].map((n) => record(n)));
    const harness = start({}, (_event, call) => {
      if (call === 1) return { batchItemFailures: [{ itemIdentifier: '' }] };
      if (call === 2) return { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] };
      return undefined;
    });
    await waitFor(() => drained(3)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([
      ['1', '2', '3'],
      ['1', '2', '3'],
      ['1', '2', '3'],
    ]);
  });

  it('bisects a batch whose invocation throws until the poison record is alone, then sends it to the on-failure destination', async () => {
    shardWith([1, 2, 3, 4].map((n) => record(n)));
    const harness = start({ bisectBatchOnError: true, maxRetryAttempts: 2 }, (event) => {
      if (event.Records.some((r) => r.dynamodb?.SequenceNumber === seq(3))) throw new Error('poison');
    });
    await waitFor(() => drained(4)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([
      ['1', '2', '3', '4'],
      ['1', '2'],
      ['3', '4'],
      ['3'],
      ['3'],
      ['3'],
      ['4'],
    ]);
    expect(harness.onFailure).toHaveLength(1);
    expect(harness.onFailure[0]).toMatchObject({
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        functionArn: expect.stringContaining('publisher'),
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      DDBStreamBatchInfo: {
        shardId: SHARD,
        startSequenceNumber: seq(3),
        endSequenceNumber: seq(3),
        batchSize: 1,
        streamArn: STREAM_ARN,
      },
    });
    expect(harness.onFailure[0]?.DDBStreamBatchInfo.approximateArrivalOfFirstRecord).toMatch(/Z$/);
  });

  it('stops retrying after MaximumRetryAttempts and sends only metadata to the on-failure destination', async () => {
    shardWith([1, 2, 3].map((n) => record(n)));
    const harness = start({ maxRetryAttempts: 1 }, () => {
      throw new Error('always fails');
    });
    await waitFor(() => drained(3)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toHaveLength(2);
    expect(harness.onFailure).toHaveLength(1);
    const message = harness.onFailure[0];
    expect(message?.DDBStreamBatchInfo).toMatchObject({
      startSequenceNumber: seq(1),
      endSequenceNumber: seq(3),
      batchSize: 3,
    });
    expect(message?.requestContext.approximateInvokeCount).toBe(2);
    expect(JSON.stringify(message)).not.toContain('NewImage');
  });

  it('sends records older than MaximumRecordAgeInSeconds to the on-failure destination without invoking', async () => {
    const old = new Date(Date.now() - 120_000);
    shardWith([record(1, old), record(2, old), record(3)]);
    const harness = start({ maxRecordAgeSeconds: 60 }, () => undefined);
    await waitFor(() => drained(3)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([['3']]);
    expect(harness.onFailure[0]).toMatchObject({
      requestContext: { condition: 'RecordAgeExceeded' },
      DDBStreamBatchInfo: { startSequenceNumber: seq(1), endSequenceNumber: seq(2), batchSize: 2 },
    });
  });

  it('resumes after the saved checkpoint with AFTER_SEQUENCE_NUMBER once the checkpoint is read back from the shard', async () => {
    shardWith([record(3)]);
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'it-at' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-at' })
      .resolves({ Records: [record(2)], NextShardIterator: 'x' });
    const checkpoints = createMemoryCheckpointStore();
    checkpoints.save(MAPPING_ID, STREAM_ARN, SHARD, { sequenceNumber: seq(2), eventId: 'ev-2' });
    const harness = start({}, () => undefined, checkpoints);
    await waitFor(() => drained(3)(harness), { timeoutMs: 10_000 });
    const types = streams.commandCalls(GetShardIteratorCommand).map((call) => call.args[0].input);
    expect(types[0]).toMatchObject({ ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: seq(2) });
    expect(types[1]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      SequenceNumber: seq(2),
      ShardId: SHARD,
    });
    expect(harness.invocations).toEqual([['3']]);
    expect(harness.checkpoints.shards(MAPPING_ID, STREAM_ARN)[SHARD]?.eventId).toBe('ev-3');
  });

  it('re-reads the shard and says so when the checkpoint is newer than the database (no such record)', async () => {
    shardWith([record(1), record(2)]);
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'it-at' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-at' })
      .resolves({ Records: [], NextShardIterator: 'x' });
    const checkpoints = createMemoryCheckpointStore();
    checkpoints.save(MAPPING_ID, STREAM_ARN, SHARD, { sequenceNumber: seq(50), eventId: 'ev-50' });
    const notices: string[] = [];
    const harness = start(
      {},
      () => undefined,
      checkpoints,
      (line) => notices.push(line),
    );
    await waitFor(() => drained(2)(harness), { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([['1', '2']]);
    expect(notices.join('\n')).toMatch(
      /does not fit this database: no record of the shard has that sequence number/,
    );
  });

  it('re-reads the shard when the record at the checkpoint is another one (a database restored from a copy)', async () => {
    shardWith([record(1), record(2)]);
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' })
      .resolves({ ShardIterator: 'it-at' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-at' })
      .resolves({ Records: [{ ...record(2), eventID: 'someone-else' }], NextShardIterator: 'x' });
    const checkpoints = createMemoryCheckpointStore();
    checkpoints.save(MAPPING_ID, STREAM_ARN, SHARD, { sequenceNumber: seq(2), eventId: 'ev-2' });
    const notices: string[] = [];
    const harness = start(
      {},
      () => undefined,
      checkpoints,
      (line) => notices.push(line),
    );
    await waitFor(() => harness.invocations.length > 0, { timeoutMs: 10_000 });
    expect(harness.invocations).toEqual([['1', '2']]);
    expect(notices.join('\n')).toMatch(/another one/);
  });

  it('keeps the checkpoint through a refused connection: no rewind to the oldest record', async () => {
    shardWith([record(3)]);
    let refused = 3;
    streams.on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' }).callsFake(() => {
      if (refused-- > 0)
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
      return { ShardIterator: 'it-at' };
    });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-at' })
      .resolves({ Records: [record(2)], NextShardIterator: 'x' });
    const checkpoints = createMemoryCheckpointStore();
    checkpoints.save(MAPPING_ID, STREAM_ARN, SHARD, { sequenceNumber: seq(2), eventId: 'ev-2' });
    const harness = start({}, () => undefined, checkpoints);
    await waitFor(() => drained(3)(harness), { timeoutMs: 10_000 });
    const types = streams
      .commandCalls(GetShardIteratorCommand)
      .map((call) => call.args[0].input.ShardIteratorType);
    expect(types).not.toContain('TRIM_HORIZON');
    expect(harness.invocations).toEqual([['3']]);
  });

  it('reads from the oldest record when the checkpoint was trimmed (TrimmedDataAccessException)', async () => {
    shardWith([record(5)]);
    streams
      .on(GetShardIteratorCommand, { ShardIteratorType: 'AT_SEQUENCE_NUMBER' })
      .rejects(Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' }));
    const checkpoints = createMemoryCheckpointStore();
    checkpoints.save(MAPPING_ID, STREAM_ARN, SHARD, { sequenceNumber: seq(2) });
    const notices: string[] = [];
    const harness = start(
      {},
      () => undefined,
      checkpoints,
      (line) => notices.push(line),
    );
    await waitFor(() => drained(5)(harness), { timeoutMs: 10_000 });
    expect(notices.join('\n')).toMatch(/TrimmedDataAccessException/);
  });

  it('reads a child shard only after its parent is read to the end', async () => {
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        StreamArn: STREAM_ARN,
        Shards: [
          {
            ShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: seq(1), EndingSequenceNumber: seq(2) },
          },
          {
            ShardId: 'child',
            ParentShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: seq(3) },
          },
        ],
      },
    });
    streams.on(GetShardIteratorCommand, { ShardId: 'parent' }).resolves({ ShardIterator: 'it-parent' });
    streams.on(GetShardIteratorCommand, { ShardId: 'child' }).resolves({ ShardIterator: 'it-child' });
    // The parent is closed: its last read has no NextShardIterator.
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-parent' })
      .resolves({ Records: [record(1), record(2)] });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-child' })
      .resolves({ Records: [record(3)], NextShardIterator: 'it-child-next' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-child-next' })
      .resolves({ Records: [], NextShardIterator: 'it-child-next' });
    const harness = start({}, () => undefined);
    await waitFor(() => harness.checkpoints.shards(MAPPING_ID, STREAM_ARN).child?.sequenceNumber === seq(3), {
      timeoutMs: 10_000,
    });
    expect(harness.invocations).toEqual([['1', '2'], ['3']]);
    expect(harness.checkpoints.shards(MAPPING_ID, STREAM_ARN).parent?.finished).toBe(true);
    await waitFor(() => (poller?.idleSince() ?? 0) > 0, { timeoutMs: 10_000 });
  });
});
