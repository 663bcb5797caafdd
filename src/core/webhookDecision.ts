/**
 * What the delivery handler does with a `DeliveryDecision` besides sending: which metrics it
 * counts, and the message a deferral puts back on the queue. Pure, so the rules have unit tests.
 */
import { METRIC, type MetricName } from './metricNames.js';
import type { DeliveryDecision } from './webhookDeliver.js';
import type { DeliveryMessage } from './webhookMessages.js';

export type DeferDecision = Extract<DeliveryDecision, { kind: 'defer' }>;

/**
 * The count metrics (1 each) of one decision: a retry is a failed attempt that is retried; a
 * dead letter counts as failed only when a request was sent on this receive.
 */
export function decisionMetrics(decision: DeliveryDecision): MetricName[] {
  if (decision.kind === 'retry') return [METRIC.webhookFailed, METRIC.webhookRetried];
  if (decision.kind === 'defer') return [METRIC.webhookDeferred];
  const names: MetricName[] =
    decision.outcome === 'delivered'
      ? [METRIC.webhookDelivered]
      : [...(decision.attempted ? [METRIC.webhookFailed] : []), METRIC.webhookDeadLettered];
  if (decision.endpointDisabled) names.push(METRIC.webhookEndpointDisabled);
  return names;
}

/**
 * The new message a deferral sends: the same delivery with this receive's unused attempt number
 * and the rate slot the decision holds (a slot of the received message is not carried over).
 */
export function deferredMessage(message: DeliveryMessage, decision: DeferDecision): DeliveryMessage {
  const { reservedAt: _previous, ...unreserved } = message;
  return {
    ...unreserved,
    attempt: decision.attempt,
    ...(decision.reservedAt !== undefined ? { reservedAt: decision.reservedAt } : {}),
  };
}
