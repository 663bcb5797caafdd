/**
 * Webhook dispatch, fed by the dispatch queue (bus rule → SQS; body = the EventBridge event,
 * `detail` = envelope). Each event becomes one delivery message per matching enabled endpoint of
 * its tenant (src/core/webhookDispatch.ts). A body that is not an event is quarantined with the
 * reason; a record whose deliveries could not all be sent is reported failed and comes back.
 */
import * as z from 'zod/mini';
import { getSqsClient } from '../../src/aws/clients.js';
import { requireEnv } from '../../src/aws/env.js';
import { getQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import { getTelemetry, instrumentHandler, MetricUnit } from '../../src/aws/telemetry.js';
import { getWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { sendDeliveries } from '../../src/aws/webhookQueues.js';
import { topology } from '../../src/contract/topology.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { dispatchRecords } from '../../src/core/webhookDispatch.js';

const telemetry = getTelemetry(METRIC_SERVICE.webhookDispatcher);
/** Catalogue entries this warm instance already wrote (one write per tenant, type and channel). */
const seen = new Set<string>();

const sqsEventSchema = z.object({
  Records: z.array(
    z.looseObject({
      messageId: z.string(),
      body: z.string(),
      eventSourceARN: z.optional(z.string()),
      attributes: z.optional(z.looseObject({ SentTimestamp: z.optional(z.string()) })),
    }),
  ),
});

interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export const handler = instrumentHandler(telemetry, async (event: unknown): Promise<BatchResponse> => {
  const { Records } = sqsEventSchema.parse(event);
  const sqs = getSqsClient();
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
    sendDeliveries: (messages) => sendDeliveries(sqs, deliveryQueueUrl, messages),
    quarantine: async ({ messageId, body, code, reason }) => {
      const record = byId.get(messageId);
      const sent = Number(record?.attributes?.SentTimestamp);
      telemetry.logger.warn('invalid dispatch message quarantined', { messageId, code, reason });
      await quarantine.put({
        reason: 'INVALID_EVENT',
        message: `webhook dispatch: ${reason}`,
        source: 'webhookDispatcher',
        recordId: messageId,
        recordTime: new Date(Number.isFinite(sent) && sent > 0 ? sent : Date.now()).toISOString(),
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
  return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
});
