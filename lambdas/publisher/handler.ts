/**
 * Publisher: outbox (and tracked tables') stream records → EventBridge. Adapter only: read the
 * records, run `publishChangeRecords`, report the records the stream must deliver again.
 * Invalid records go to the quarantine table and do not fail the batch.
 */
import type { Context, DynamoDBBatchResponse } from 'aws-lambda';
import * as z from 'zod/mini';
import { optionalEnv, requireEnv } from '../../src/aws/env.js';
import { putEntries } from '../../src/aws/eventBus.js';
import { writeSequenceToOutboxRow } from '../../src/aws/outboxSequenceWriteBack.js';
import { getQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import { getDocumentSender } from '../../src/aws/sdk/dynamo.js';
import { getEventBridgeSender } from '../../src/aws/sdk/eventBridge.js';
import { getSequencesRepository } from '../../src/aws/sequencesRepository.js';
import { getTelemetry, instrumentHandler, MetricUnit } from '../../src/aws/telemetry.js';
import { topology } from '../../src/contract/topology.js';
import { toChangeRecord } from '../../src/core/dynamoStreamRecord.js';
import { putEventsMaxRequestBytes } from '../../src/core/limits.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { publishChangeRecords } from '../../src/core/publish.js';
import { assignSequences } from '../../src/core/sequence.js';
import { parseTrackedTablesConfig } from '../../src/core/trackedTable.js';
import { TRACKED_TABLES_ENV } from '../../src/core/trackedTables.js';

const telemetry = getTelemetry(METRIC_SERVICE.publisher);
// Read at cold start so a bad configuration fails loudly before any record is touched.
const trackedTables = parseTrackedTablesConfig(optionalEnv(TRACKED_TABLES_ENV));
const eventBusName = requireEnv(topology.bus.env);
const maxEntryBytes = putEventsMaxRequestBytes(process.env);
const quarantine = getQuarantineRepository();
const sequences = getSequencesRepository();
const timeoutMs = topology.functions.publisher.timeoutSeconds * 1000;

const streamEventSchema = z.object({ Records: z.array(z.unknown()) });

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown, context?: Context): Promise<DynamoDBBatchResponse> => {
    const started = Date.now();
    const remainingTimeMs = () => context?.getRemainingTimeInMillis() ?? timeoutMs - (Date.now() - started);
    const records = streamEventSchema.parse(event).Records.map(toChangeRecord);

    let retries = 0;
    const result = await publishChangeRecords(
      records,
      {
        putEntries: async (entries) => {
          const outcomes = await putEntries(getEventBridgeSender(), entries, { remainingTimeMs });
          for (const o of outcomes) if (o.status !== 'too-large') retries += Math.max(0, o.attempts - 1);
          return outcomes;
        },
        quarantine: async (entry) => {
          await quarantine.put(entry);
        },
        assignSequences: (tenantId, channel, eventIds) =>
          assignSequences(sequences, tenantId, channel, eventIds),
        writeBackSequence: async (tableName, keys, number) => {
          try {
            await writeSequenceToOutboxRow(getDocumentSender(), tableName, keys, number);
          } catch (error) {
            // The assignment item is the record of the number; the row's copy is a convenience.
            telemetry.logger.warn('could not write the sequence number back to the outbox row', {
              tableName,
              error,
            });
          }
        },
      },
      { trackedTables, eventBusName, maxEntryBytes, now: new Date() },
    );

    const count = (status: string) => result.records.filter((r) => r.status === status).length;
    telemetry.metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, count('published'));
    telemetry.metrics.addMetric(METRIC.eventsQuarantined, MetricUnit.Count, count('quarantined'));
    telemetry.metrics.addMetric(METRIC.putEventsRetries, MetricUnit.Count, retries);
    for (const r of result.records) {
      if (r.status === 'quarantined') telemetry.logger.warn('record quarantined', { ...r });
      if (r.status === 'failed')
        telemetry.logger.error('record failed; the stream will deliver it again', { ...r });
    }
    return { batchItemFailures: result.failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
  },
);
