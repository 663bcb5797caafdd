/**
 * Redrive of one publisher DLQ message: re-read the failed batch's records from the stream and
 * run them through the publisher's own core (`publishChangeRecords`: classify, PutEvents with
 * retries, quarantine), so a redriven record is treated exactly as the publisher would.
 */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { putEntries } from '../../aws/eventBus.js';
import type { QuarantineRepository } from '../../aws/quarantineRepository.js';
import { toChangeRecord } from '../../core/dynamoStreamRecord.js';
import { publishChangeRecords, type RecordResult } from '../../core/publish.js';
import type { TrackedTablesConfig } from '../../core/trackedTable.js';
import type { StreamBatchFailure } from './publisherFailure.js';
import { readStreamRange } from './streamRange.js';

export interface PublisherRedriveDeps {
  readonly streams: DynamoDBStreamsClient;
  readonly eventBridge: EventBridgeClient;
  readonly quarantine: QuarantineRepository;
  readonly trackedTables: TrackedTablesConfig;
  readonly eventBusName: string;
  /** Time budget for PutEvents retries of one batch. @default 60 s */
  readonly budgetMs?: number;
}

export interface PublisherRedriveResult {
  readonly records: readonly RecordResult[];
  /** True when every record was published, ignored or quarantined: the DLQ message can go. */
  readonly complete: boolean;
}

export async function redrivePublisherFailure(
  failure: StreamBatchFailure,
  deps: PublisherRedriveDeps,
): Promise<PublisherRedriveResult> {
  const info = failure.DDBStreamBatchInfo;
  const raw = await readStreamRange(deps.streams, info);
  // Lambda adds `eventSourceARN` to each record; GetRecords does not.
  const records = raw.map((record, index) =>
    toChangeRecord({ ...record, eventSourceARN: info.streamArn }, index),
  );
  const started = Date.now();
  const budgetMs = deps.budgetMs ?? 60_000;
  const result = await publishChangeRecords(
    records,
    {
      putEntries: (entries) =>
        putEntries(deps.eventBridge, entries, { remainingTimeMs: () => budgetMs - (Date.now() - started) }),
      quarantine: async (entry) => {
        await deps.quarantine.put(entry);
      },
    },
    { trackedTables: deps.trackedTables, eventBusName: deps.eventBusName, now: new Date() },
  );
  return { records: result.records, complete: result.failedSequenceNumbers.length === 0 };
}
