/**
 * Webhook dispatch, fed by the dispatch queue (bus rule → SQS; body = the EventBridge event,
 * `detail` = envelope). Each event becomes one delivery message per matching enabled endpoint of
 * its tenant (src/core/webhookDispatch.ts). A body that is not an event is quarantined with the
 * reason; a record whose deliveries could not all be sent is reported failed and comes back.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { requireEnv } from '../../src/aws/env.js';
import { getQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import { getSqsSender } from '../../src/aws/sdk/sqs.js';
import { batchResponse, parseSqsRecords, sentAt, sqsRecordSchema } from '../../src/aws/sqsBatch.js';
import { getTelemetry, instrumentHandler, MetricUnit } from '../../src/aws/telemetry.js';
import { getWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { sendDeliveries } from '../../src/aws/webhookQueues.js';
import { topology } from '../../src/contract/topology.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { dispatchRecords } from '../../src/core/webhookDispatch.js';

const telemetry = getTelemetry(METRIC_SERVICE.webhookDispatcher);
/** Catalogue entries this warm instance already wrote (one write per tenant, type and channel). */
const seen = new Set<string>();

export const handler = instrumentHandler(telemetry, async (event: unknown): Promise<SQSBatchResponse> => {
  const Records = parseSqsRecords(event, sqsRecordSchema);
  const sqs = getSqsSender();
  const deliveryQueueUrl = requireEnv(topology.queues.webhookDeliveryQueue.env);
  const endpoints = getWebhookEndpointsRepository();
  const quarantine = getQuarantineRepository();
  const byId = new Map(Records.map((record) => [record.messageId, record]));

  const result = await dispatchRecords(Records, {
    listEndpoints: (tenantId) => endpoints.listRoutingByTenant(tenantId),
    recordSeen: async (envelope) => {
      const now = new Date();
      for (const [kind, name] of [
        ['eventType', envelope.type],
        ['channel', envelope.channel],
      ] as const) {
        const key = JSON.stringify([envelope.tenantId, kind, name]);
        if (seen.has(key)) continue;
        await endpoints.recordSeen(envelope.tenantId, kind, name, now);
        seen.add(key);
      }
    },
    sendDeliveries: (messages) => sendDeliveries(sqs, deliveryQueueUrl, messages, telemetry.logger),
    log: telemetry.logger,
    quarantine: async ({ messageId, body, code, reason }) => {
      const record = byId.get(messageId);
      telemetry.logger.warn('invalid dispatch message quarantined', { messageId, code, reason });
      await quarantine.put({
        reason: 'INVALID_EVENT',
        message: `webhook dispatch: ${reason}`,
        source: 'webhookDispatcher',
        recordId: messageId,
        recordTime: sentAt(record ?? {}).toISOString(),
        record: record ?? { messageId, body },
        ...(record?.eventSourceARN ? { origin: record.eventSourceARN } : {}),
        details: { code },
      });
    },
  });

  if (result.deliveries > 0)
    telemetry.metrics.addMetric(METRIC.webhookDispatched, MetricUnit.Count, result.deliveries);
  if (result.quarantined > 0)
    telemetry.metrics.addMetric(METRIC.eventsQuarantined, MetricUnit.Count, result.quarantined);
  return batchResponse(result.failedMessageIds);
});
