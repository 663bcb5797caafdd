/**
 * DynamoDB Streams → function with Lambda's event-source-mapping semantics:
 * - polls each shard about every 250 ms, follows shard splits (a child starts once its parent is
 *   read to the end), reads in order;
 * - batch size and batching window; records in the Lambda DynamoDBStreamEvent shape;
 * - ReportBatchItemFailures: restart from the lowest failed sequence number (an empty or unknown
 *   itemIdentifier fails the whole batch);
 * - BisectBatchOnFunctionError: a thrown error splits the batch in two (a split does not use a
 *   retry attempt; a single record that keeps failing does);
 * - MaximumRetryAttempts / MaximumRecordAgeInSeconds (-1 = unbounded), then the on-failure
 *   destination gets the batch's metadata only, in AWS's shape (see onFailureMessage.ts);
 * - checkpoints per shard after each completed batch; a restart resumes AFTER_SEQUENCE_NUMBER, once
 *   the checkpoint is proven to belong to this shard (see verifyCheckpoint below).
 * One batch per shard at a time (parallelization factor 1).
 */
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamMappingDef } from '../../src/contract/topology.js';
import { readBatchResponse } from './batchResponse.js';
import type { CheckpointStore } from './checkpoints.js';
import { type FailureCondition, onFailureMessage } from './onFailureMessage.js';
import { toLambdaStreamRecord } from './streamRecord.js';

export type StreamMappingSettings = Pick<
  StreamMappingDef,
  | 'function'
  | 'batchSize'
  | 'maxBatchingWindowSeconds'
  | 'bisectBatchOnError'
  | 'maxRetryAttempts'
  | 'maxRecordAgeSeconds'
  | 'startingPosition'
  | 'filterEventNames'
>;

export interface StreamPollerOptions {
  /** Names the mapping in the checkpoint file, e.g. `publisher:outbox-relay-outbox`. */
  readonly mappingId: string;
  readonly mapping: StreamMappingSettings;
  readonly streamArn: string;
  readonly client: DynamoDBStreamsClient;
  readonly invoke: (functionName: string, event: DynamoDBStreamEvent) => Promise<unknown>;
  readonly checkpoints: CheckpointStore;
  /** Sends a message to the mapping's on-failure destination (SQS). */
  readonly sendToOnFailure: (body: string) => Promise<void>;
  readonly functionArn: string;
  readonly pollIntervalMs?: number;
  /** Pause before retrying a failed batch. Default: 100 ms doubling to 2 s. */
  readonly retryDelayMs?: (attempt: number) => number;
  readonly onError?: (error: unknown) => void;
  /** Things a user must hear about even when nothing failed: a checkpoint that does not fit the shard. */
  readonly onNotice?: (line: string) => void;
}

export interface StreamPoller {
  /**
   * Proof of being drained: the issue time of the oldest among each open shard's latest empty
   * read (nothing buffered, nothing in process). A value >= T means every record written before T
   * was handled. Undefined while there is work or shards still to discover.
   */
  idleSince(): number | undefined;
  stop(): Promise<void>;
}

interface Segment {
  records: _Record[];
  /** Failed invocations of these records so far (splits excluded). */
  failures: number;
  /** Invocations of these records so far (for the on-failure message). */
  invocations: number;
}

interface ShardWorker {
  readonly shardId: string;
  done: Promise<void>;
  finished: boolean;
  /** Issue time of the latest read that returned nothing while nothing was buffered or in process. */
  lastQuietRead: number | undefined;
}

/** Why a saved checkpoint cannot be resumed from; the shard is then read from its oldest record. */
export type CheckpointMismatch = { readonly reason: string };

const DESCRIBE_EVERY_MS = 1000;
/** Only these GetShardIterator errors mean the checkpoint's record is gone; anything else is retried. */
const CHECKPOINT_GONE_ERRORS = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException']);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
const GET_RECORDS_MAX = 1000;

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { mapping, streamArn, client, checkpoints, mappingId } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const retryDelayMs =
    options.retryDelayMs ?? ((attempt: number) => Math.min(2000, 100 * 2 ** (attempt - 1)));
  const abort = new AbortController();
  const workers = new Map<string, ShardWorker>();
  /** The shards last described (for their sequence ranges). */
  const shards = new Map<string, Shard>();
  /** Issue time of the last DescribeStream after which no new shard was pending. */
  let discoveredAt: number | undefined;
  /** A shard that ends may have children to discover: a discovery must be issued after this. */
  let lastShardEndedAt = 0;
  let discovering = true;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (abort.signal.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      abort.signal.addEventListener('abort', onAbort, { once: true });
    });

  const describeShards = async (): Promise<Shard[]> => {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const out = await client.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
        }),
        { abortSignal: abort.signal },
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  };

  const saveCheckpoint = (shardId: string, record: _Record | undefined, finished = false) => {
    const sequenceNumber = record?.dynamodb?.SequenceNumber;
    checkpoints.save(mappingId, streamArn, shardId, {
      ...(sequenceNumber ? { sequenceNumber } : {}),
      // The record's identity: a database restored from an older copy reuses sequence numbers.
      ...(sequenceNumber && record?.eventID ? { eventId: record.eventID } : {}),
      ...(finished ? { finished } : {}),
    });
  };

  /**
   * A checkpoint is trusted only when its record is in this shard: inside the shard's sequence
   * range, and read back AT its sequence number with the same event id. A checkpoint file from
   * another (newer) database would otherwise skip every record up to its number, silently.
   */
  const verifyCheckpoint = async (
    shard: Shard | undefined,
    saved: { sequenceNumber: string; eventId?: string | undefined },
  ): Promise<CheckpointMismatch | undefined> => {
    const range = shard?.SequenceNumberRange;
    const seq = toBigInt(saved.sequenceNumber);
    const start = toBigInt(range?.StartingSequenceNumber);
    const end = toBigInt(range?.EndingSequenceNumber);
    if (seq === undefined) return { reason: 'it is not a sequence number' };
    if (start !== undefined && seq < start) {
      return { reason: `it is before the shard's oldest record ${range?.StartingSequenceNumber} (trimmed)` };
    }
    if (end !== undefined && seq > end) {
      return { reason: `it is after the closed shard's last record ${range?.EndingSequenceNumber}` };
    }
    let iterator: string | undefined;
    try {
      iterator = (
        await client.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shard?.ShardId,
            ShardIteratorType: 'AT_SEQUENCE_NUMBER',
            SequenceNumber: saved.sequenceNumber,
          }),
          { abortSignal: abort.signal },
        )
      ).ShardIterator;
    } catch (error) {
      if (CHECKPOINT_GONE_ERRORS.has(errorName(error)) || errorName(error) === 'ValidationException') {
        return { reason: `its record is not readable (${errorName(error)})` };
      }
      throw error; // a refused connection, a throttle: retried later, the checkpoint kept
    }
    if (iterator === undefined) return { reason: 'the shard returned no iterator for it' };
    const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }), {
      abortSignal: abort.signal,
    });
    const first = out.Records?.[0];
    if (first?.dynamodb?.SequenceNumber !== saved.sequenceNumber) {
      return {
        reason: 'no record of the shard has that sequence number (the checkpoint is newer than the database)',
      };
    }
    if (saved.eventId !== undefined && first.eventID !== saved.eventId) {
      return {
        reason: `the record with that sequence number is another one (event ${first.eventID}, not ${saved.eventId})`,
      };
    }
    return undefined;
  };

  const iteratorFor = async (shardId: string, firstSeen: boolean): Promise<string | undefined> => {
    const saved = checkpoints.shards(mappingId, streamArn)[shardId];
    const request = (type: ShardIteratorType, sequenceNumber?: string) =>
      client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
        }),
        { abortSignal: abort.signal },
      );
    if (saved?.sequenceNumber) {
      const sequenceNumber = saved.sequenceNumber;
      const mismatch = await verifyCheckpoint(shards.get(shardId), { ...saved, sequenceNumber });
      if (!mismatch) {
        try {
          return (await request('AFTER_SEQUENCE_NUMBER', sequenceNumber)).ShardIterator;
        } catch (error) {
          if (!CHECKPOINT_GONE_ERRORS.has(errorName(error))) throw error;
          options.onNotice?.(
            `checkpoint ${sequenceNumber} of shard ${shardId}: ${errorName(error)}; reading the shard from its oldest record`,
          );
          return (await request('TRIM_HORIZON')).ShardIterator;
        }
      }
      // Never skip: re-read the whole shard (consumers de-duplicate by event id) and say so.
      options.onNotice?.(
        `checkpoint ${sequenceNumber} of shard ${shardId} does not fit this database: ${mismatch.reason}. Reading the shard from its oldest record instead; records already handled are delivered again (consumers de-duplicate by event id).`,
      );
      return (await request('TRIM_HORIZON')).ShardIterator;
    }
    // LATEST applies only to the shards open when the mapping starts; children start at their beginning.
    const type = firstSeen && mapping.startingPosition === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON';
    return (await request(type)).ShardIterator;
  };

  const sendToOnFailure = async (
    shardId: string,
    records: _Record[],
    condition: FailureCondition,
    invocations: number,
    functionError: boolean,
  ) => {
    await options.sendToOnFailure(
      JSON.stringify(
        onFailureMessage({
          shardId,
          streamArn,
          records,
          condition,
          invocations,
          functionError,
          functionArn: options.functionArn,
        }),
      ),
    );
  };

  const isTooOld = (record: _Record) => {
    if (mapping.maxRecordAgeSeconds < 0) return false;
    const created = record.dynamodb?.ApproximateCreationDateTime;
    return created !== undefined && Date.now() - created.getTime() > mapping.maxRecordAgeSeconds * 1000;
  };

  /** Handles one fetched batch until every record is processed or sent to the on-failure destination. */
  const processBatch = async (shardId: string, batch: _Record[]) => {
    const segments: Segment[] = [{ records: batch, failures: 0, invocations: 0 }];
    while (segments.length > 0 && !abort.signal.aborted) {
      const segment = segments[0];
      if (!segment) break;
      // Records past the maximum age are discarded (to the on-failure destination) before invoking.
      const expiredCount = segment.records.findIndex((record) => !isTooOld(record));
      const expired = expiredCount === -1 ? segment.records.length : expiredCount;
      if (expired > 0) {
        const dropped = segment.records.slice(0, expired);
        await sendToOnFailure(
          shardId,
          dropped,
          'RecordAgeExceeded',
          segment.invocations,
          segment.failures > 0,
        );
        saveCheckpoint(shardId, dropped.at(-1));
        segment.records = segment.records.slice(expired);
        if (segment.records.length === 0) {
          segments.shift();
          continue;
        }
      }

      const lambdaRecords: DynamoDBRecord[] = segment.records.map((record) =>
        toLambdaStreamRecord(record, streamArn),
      );
      segment.invocations += 1;
      let outcome: ReturnType<typeof readBatchResponse> | { kind: 'thrown' };
      try {
        const response = await options.invoke(mapping.function, { Records: lambdaRecords });
        const sequenceNumbers = new Set(segment.records.flatMap((r) => r.dynamodb?.SequenceNumber ?? []));
        outcome = readBatchResponse(response, sequenceNumbers);
      } catch {
        // The invoker already reported the error; Lambda's answer to it is a retry (or a split).
        outcome = { kind: 'thrown' };
      }

      if (outcome.kind === 'success') {
        saveCheckpoint(shardId, segment.records.at(-1));
        segments.shift();
        continue;
      }

      let failedRecords = segment.records;
      if (outcome.kind === 'partial') {
        // Restart from the lowest failed sequence number; the records before it are done.
        const lowest = segment.records.findIndex((r) => outcome.failed.has(r.dynamodb?.SequenceNumber ?? ''));
        if (lowest > 0) saveCheckpoint(shardId, segment.records[lowest - 1]);
        failedRecords = segment.records.slice(Math.max(0, lowest));
      } else if (outcome.kind === 'thrown' && mapping.bisectBatchOnError && segment.records.length > 1) {
        const half = Math.ceil(segment.records.length / 2);
        segments.splice(
          0,
          1,
          {
            records: segment.records.slice(0, half),
            failures: segment.failures,
            invocations: segment.invocations,
          },
          {
            records: segment.records.slice(half),
            failures: segment.failures,
            invocations: segment.invocations,
          },
        );
        continue;
      }

      const failures = segment.failures + 1;
      if (mapping.maxRetryAttempts >= 0 && failures > mapping.maxRetryAttempts) {
        await sendToOnFailure(
          shardId,
          failedRecords,
          'RetryAttemptsExhausted',
          segment.invocations,
          outcome.kind !== 'partial',
        );
        saveCheckpoint(shardId, failedRecords.at(-1));
        segments.shift();
        continue;
      }
      segments[0] = { records: failedRecords, failures, invocations: segment.invocations };
      await sleep(retryDelayMs(failures));
    }
  };

  const runShard = async (worker: ShardWorker, firstSeen: boolean) => {
    const windowMs = mapping.maxBatchingWindowSeconds * 1000;
    let iterator: string | undefined;
    let buffer: _Record[] = [];
    let bufferSince = 0;
    while (!abort.signal.aborted) {
      try {
        iterator ??= await iteratorFor(worker.shardId, firstSeen);
        if (iterator === undefined) break;
        const issuedAt = Date.now();
        const out = await client.send(
          new GetRecordsCommand({
            ShardIterator: iterator,
            Limit: Math.min(GET_RECORDS_MAX, Math.max(1, mapping.batchSize - buffer.length)),
          }),
          { abortSignal: abort.signal },
        );
        const records = out.Records ?? [];
        // Lambda's filter criteria: a record of another kind never reaches the function.
        const wanted = mapping.filterEventNames;
        const kept = wanted
          ? records.filter((r) => r.eventName !== undefined && wanted.includes(r.eventName))
          : records;
        if (kept.length > 0 && buffer.length === 0) bufferSince = Date.now();
        buffer.push(...kept);
        const closed = out.NextShardIterator === undefined;
        const windowOver = Date.now() - bufferSince >= windowMs;
        while (buffer.length > 0 && (buffer.length >= mapping.batchSize || windowOver || closed)) {
          worker.lastQuietRead = undefined;
          const batch = buffer.slice(0, mapping.batchSize);
          buffer = buffer.slice(batch.length);
          await processBatch(worker.shardId, batch);
          if (abort.signal.aborted) return;
          bufferSince = Date.now();
        }
        // Records the filter dropped are done too (Lambda's iterator moves past them): without this
        // the checkpoint stays before the publisher's own MODIFY records and the reported lag grows at idle.
        const lastRead = records.at(-1);
        if (buffer.length === 0 && lastRead && lastRead !== kept.at(-1))
          saveCheckpoint(worker.shardId, lastRead);
        if (closed) {
          saveCheckpoint(worker.shardId, undefined, true);
          worker.finished = true;
          lastShardEndedAt = Date.now();
          discoveredAt = undefined;
          return;
        }
        iterator = out.NextShardIterator;
        worker.lastQuietRead = records.length === 0 && buffer.length === 0 ? issuedAt : undefined;
        if (records.length < GET_RECORDS_MAX || buffer.length > 0) await sleep(pollIntervalMs);
      } catch (error) {
        if (abort.signal.aborted) return;
        // An expired iterator or a transient error: re-read from the last checkpoint.
        options.onError?.(error);
        iterator = undefined;
        buffer = [];
        worker.lastQuietRead = undefined;
        await sleep(pollIntervalMs);
      }
    }
  };

  const discover = async (initial: boolean) => {
    const issuedAt = Date.now();
    const described = await describeShards();
    for (const shard of described) if (shard.ShardId) shards.set(shard.ShardId, shard);
    const saved = checkpoints.shards(mappingId, streamArn);
    const known = new Set(described.map((shard) => shard.ShardId ?? ''));
    const isDone = (shardId: string) =>
      workers.get(shardId)?.finished === true || saved[shardId]?.finished === true;
    let pending = false;
    for (const shard of described) {
      const shardId = shard.ShardId;
      if (!shardId || workers.has(shardId) || saved[shardId]?.finished) continue;
      // Order across a split: a child waits until its parent is read to the end.
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !isDone(parent)) {
        pending = true;
        continue;
      }
      const worker: ShardWorker = {
        shardId,
        done: Promise.resolve(),
        finished: false,
        lastQuietRead: undefined,
      };
      worker.done = runShard(worker, initial);
      workers.set(shardId, worker);
    }
    discoveredAt = pending || issuedAt < lastShardEndedAt ? undefined : issuedAt;
  };

  const discoveryLoop = (async () => {
    let initial = true;
    while (!abort.signal.aborted) {
      try {
        await discover(initial);
        initial = false;
      } catch (error) {
        if (abort.signal.aborted) break;
        options.onError?.(error);
      }
      discovering = false;
      await sleep(DESCRIBE_EVERY_MS);
    }
  })();

  return {
    idleSince() {
      if (discovering || discoveredAt === undefined) return undefined;
      let since = Number.POSITIVE_INFINITY;
      for (const worker of workers.values()) {
        if (worker.finished) continue;
        if (worker.lastQuietRead === undefined) return undefined;
        since = Math.min(since, worker.lastQuietRead);
      }
      return Number.isFinite(since) ? since : discoveredAt;
    },
    async stop() {
      abort.abort();
      await discoveryLoop;
      await Promise.allSettled([...workers.values()].map((worker) => worker.done));
    },
  };
}

function toBigInt(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return BigInt(value);
}
