/**
 * Audit: every bus event (via the audit queue) → one audit record, idempotent on the event id.
 * Adapter only: read the SQS batch, run `recordAuditMessages`, report failed messages.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import { batchResponse, sentAt, sqsEventSchema, sqsRecordSchema } from '../../src/aws/sqsBatch.js';
import { getTelemetry, instrumentHandler, MetricUnit } from '../../src/aws/telemetry.js';
import { type QueueMessage, recordAuditMessages } from '../../src/core/auditConsume.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';

const telemetry = getTelemetry(METRIC_SERVICE.audit);
const audit = getAuditRepository();
const quarantine = getQuarantineRepository();

function toQueueMessage(raw: unknown): QueueMessage | { invalid: unknown } {
  const parsed = sqsRecordSchema.safeParse(raw);
  if (!parsed.success) return { invalid: raw };
  return {
    messageId: parsed.data.messageId,
    body: parsed.data.body,
    sentAt: sentAt(parsed.data).toISOString(),
    origin: parsed.data.eventSourceARN ?? 'unknown',
    raw,
  };
}

export const handler = instrumentHandler(
  telemetry,
  async (event: unknown, _context?: Context): Promise<SQSBatchResponse> => {
    const messages: QueueMessage[] = [];
    for (const raw of sqsEventSchema.parse(event).Records) {
      const message = toQueueMessage(raw);
      // A record without a message id cannot be reported alone; failing the batch keeps it visible.
      if ('invalid' in message) throw new Error('SQS record without messageId/body in the audit batch');
      messages.push(message);
    }
    const results = await recordAuditMessages(messages, {
      recordEvent: (envelope) => audit.recordEvent(envelope),
      quarantine: async (entry) => {
        await quarantine.put(entry);
      },
    });
    telemetry.metrics.addMetric(
      METRIC.auditRecorded,
      MetricUnit.Count,
      results.filter((r) => r.status === 'recorded').length,
    );
    for (const r of results) {
      if (r.status === 'quarantined') telemetry.logger.warn('audit message quarantined', { ...r });
      if (r.status === 'failed')
        telemetry.logger.error('audit message failed; SQS will redeliver it', { ...r });
    }
    return batchResponse(results.filter((r) => r.status === 'failed').map((r) => r.messageId));
  },
);
