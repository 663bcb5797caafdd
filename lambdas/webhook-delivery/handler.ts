/**
 * Webhook delivery, fed by the delivery queue (one message per event and endpoint; partial batch
 * responses). Each message passes its endpoint's flow gate on its own (src/core/webhookFlow.ts):
 * a slot under the endpoint's in-flight cap (one while it is slow) and its rate slot, or it is
 * deferred unsent as a new delayed message. So a slow or hanging endpoint holds at most one
 * request, hence one invocation, and the others' messages are never queued behind it.
 * A retry is the same message made visible again later (ChangeMessageVisibility) and reported as
 * a batch item failure; the attempt number comes from the message's `attempt` plus its
 * ApproximateReceiveCount (see src/core/webhookMessages.ts). While an endpoint's circuit is open
 * (src/core/webhookCircuit.ts) its messages are deferred the same way.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod/mini';
import { getAuditCoreRepository } from '../../src/aws/auditCoreRepository.js';
import { requireEnv } from '../../src/aws/env.js';
import { getSqsSender } from '../../src/aws/sdk/sqs.js';
import { batchResponse, parseSqsRecords, sqsRecordSchema } from '../../src/aws/sqsBatch.js';
import { getTelemetry, instrumentHandler, MetricUnit, setCorrelationId } from '../../src/aws/telemetry.js';
import { createWebhookHttpClient, type WebhookHttpClient } from '../../src/aws/webhookDelivery.js';
import { getWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { getWebhookFlowControl } from '../../src/aws/webhookFlowControl.js';
import {
  deferDelivery,
  parkInvalidDelivery,
  scheduleRetry,
  sendDeadLetter,
} from '../../src/aws/webhookQueues.js';
import { topology } from '../../src/contract/topology.js';
import { addressPolicyFromEnv } from '../../src/core/addressPolicy.js';
import { streakPolicyFromEnv } from '../../src/core/deliveryOutcome.js';
import { METRIC, METRIC_SERVICE } from '../../src/core/metricNames.js';
import { parseRetrySchedule, RETRY_SCHEDULE_ENV } from '../../src/core/retrySchedule.js';
import { circuitPolicyFromEnv } from '../../src/core/webhookCircuit.js';
import { decisionMetrics, deferredMessage } from '../../src/core/webhookDecision.js';
import { type DeliveryConfig, type DeliveryPorts, deliverMessage } from '../../src/core/webhookDeliver.js';
import { flowPolicyFromEnv, LocalFlow } from '../../src/core/webhookFlow.js';
import { deliveryMessageSchema } from '../../src/core/webhookMessages.js';

const telemetry = getTelemetry(METRIC_SERVICE.webhookDelivery);

// A retry's attempt number is counted from SQS's receive count, so this handler needs it.
const deliveryRecordSchema = z.extend(sqsRecordSchema, {
  receiptHandle: z.string(),
  attributes: z.looseObject({ ApproximateReceiveCount: z.coerce.number().check(z.int(), z.gte(1)) }),
});

// Created on first use (the offline runtime sets the environment before invoking).
let http: { key: string; client: WebhookHttpClient } | undefined;
function httpClient(config: DeliveryConfig): WebhookHttpClient {
  const key = JSON.stringify(config.policy);
  if (http?.key !== key) http = { key, client: createWebhookHttpClient({ policy: config.policy }) };
  return http.client;
}

function configFromEnv(): DeliveryConfig {
  return {
    schedule: parseRetrySchedule(process.env[RETRY_SCHEDULE_ENV]),
    streak: streakPolicyFromEnv(process.env),
    circuit: circuitPolicyFromEnv(process.env),
    flow: flowPolicyFromEnv(process.env),
    local: new LocalFlow(),
    policy: addressPolicyFromEnv(process.env),
    now: () => new Date(),
    random: Math.random,
  };
}

export const handler = instrumentHandler(telemetry, async (event: unknown): Promise<SQSBatchResponse> => {
  const records = parseSqsRecords(event, deliveryRecordSchema);
  const config = configFromEnv();
  const sqs = getSqsSender();
  const queueUrl = requireEnv(topology.queues.webhookDeliveryQueue.env);
  const dlqUrl = requireEnv(topology.queues.webhookDlq.env);
  const endpoints = getWebhookEndpointsRepository();
  const audit = getAuditCoreRepository();
  const post = httpClient(config);
  const { metrics, logger } = telemetry;

  const endpointCache = new Map<string, ReturnType<typeof endpoints.get>>();
  const ports: DeliveryPorts = {
    // Once per endpoint and invocation: a batch often holds several messages for one endpoint.
    getEndpoint: (tenantId, endpointId) => {
      const key = JSON.stringify([tenantId, endpointId]);
      let found = endpointCache.get(key);
      if (!found) {
        found = endpoints.get(tenantId, endpointId);
        endpointCache.set(key, found);
        found.catch(() => endpointCache.delete(key));
      }
      return found;
    },
    post,
    recordAttempt: async (tenantId, eventId, attempt) => {
      await audit.recordAttempt(tenantId, eventId, attempt);
      await audit.recordEndpointAttempt(tenantId, eventId, attempt);
    },
    recordTenantNote: (tenantId, note, now) => audit.recordTenantNote(tenantId, note, now),
    recordSuccess: (endpoint) => endpoints.recordSuccess(endpoint.tenantId, endpoint.id),
    recordFailure: (endpoint, now) => endpoints.recordFailure(endpoint.tenantId, endpoint.id, now),
    disableEndpoint: (endpoint, reason, now) =>
      endpoints.setEnabled(endpoint.tenantId, endpoint.id, false, reason, now),
    deadLetter: (letter) => sendDeadLetter(sqs, dlqUrl, letter),
    flow: getWebhookFlowControl(),
    log: logger,
  };

  const failures: string[] = [];
  await Promise.all(
    records.map(async (record) => {
      let json: unknown;
      try {
        json = JSON.parse(record.body);
      } catch {
        json = undefined;
      }
      const parsed = deliveryMessageSchema.safeParse(json);
      if (!parsed.success) {
        // Only our dispatcher writes this queue; park anything else with the reason rather than drop it.
        logger.error('invalid delivery message', {
          messageId: record.messageId,
          issues: parsed.error.issues.slice(0, 3),
        });
        try {
          await parkInvalidDelivery(sqs, dlqUrl, record.body);
        } catch (error) {
          logger.error('could not park invalid delivery message', {
            messageId: record.messageId,
            error,
          });
          failures.push(record.messageId);
        }
        return;
      }
      const message = parsed.data;
      try {
        setCorrelationId(telemetry, message.eventId);
        const decision = await deliverMessage(
          message,
          record.attributes.ApproximateReceiveCount,
          ports,
          config,
        );
        for (const name of decisionMetrics(decision)) metrics.addMetric(name, MetricUnit.Count, 1);
        if (decision.kind === 'retry') {
          failures.push(record.messageId);
          await scheduleRetry(sqs, queueUrl, record.receiptHandle, decision.delaySeconds).catch(
            (error: unknown) => {
              // The message still returns, after the queue's own visibility timeout.
              logger.error('could not schedule webhook retry', { messageId: record.messageId, error });
            },
          );
        } else if (decision.kind === 'defer') {
          await deferDelivery(sqs, queueUrl, deferredMessage(message, decision), decision.delaySeconds).catch(
            (error: unknown) => {
              // Not re-sent: the received message returns after its visibility timeout instead.
              logger.error('could not defer webhook delivery', { messageId: record.messageId, error });
              failures.push(record.messageId);
            },
          );
        } else if (decision.outcome === 'delivered') {
          const lag = Date.now() - Date.parse(message.envelope.time);
          if (Number.isFinite(lag) && lag >= 0)
            metrics.addMetric(METRIC.endToEndLag, MetricUnit.Milliseconds, lag);
        }
      } catch (error) {
        logger.error('webhook delivery failed unexpectedly', {
          messageId: record.messageId,
          error,
        });
        failures.push(record.messageId);
      }
    }),
  );
  return batchResponse(failures);
});
