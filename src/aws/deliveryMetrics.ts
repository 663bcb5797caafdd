/**
 * Delivery metrics the fan-out and resume handlers emit (names from `src/core/metricNames.ts`),
 * kept here so each handler adds one line: subscribers per event, delivered / failed / refreshed per event,
 * end-to-end lag (event time → delivered), resume requests and replayed counts.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import type { Envelope } from '../core/envelope.js';
import type { EventFanoutSummary } from '../core/fanoutDelivery.js';
import { eventKeyOf } from '../core/fanoutPlan.js';
import { METRIC } from '../core/metricNames.js';

/** One data point per event: subscribers found, messages delivered and failed, and the lag of delivered events. */
export function recordFanoutMetrics(
  metrics: Metrics,
  summaries: readonly EventFanoutSummary[],
  envelopes: readonly Envelope[],
  now = Date.now(),
): void {
  // Ids are unique per tenant only: look times up by tenant and id.
  const timeByKey = new Map(envelopes.map((envelope) => [eventKeyOf(envelope), Date.parse(envelope.time)]));
  for (const summary of summaries) {
    metrics.addMetric(METRIC.fanoutSubscribers, MetricUnit.Count, summary.subscribers);
    metrics.addMetric(METRIC.fanoutDelivered, MetricUnit.Count, summary.delivered);
    metrics.addMetric(METRIC.fanoutFailed, MetricUnit.Count, summary.failed);
    metrics.addMetric(METRIC.fanoutRefreshed, MetricUnit.Count, summary.refreshed);
    const time = timeByKey.get(eventKeyOf({ tenantId: summary.tenantId, id: summary.eventId }));
    if (summary.delivered > 0 && time !== undefined) {
      metrics.addMetric(METRIC.endToEndLag, MetricUnit.Milliseconds, Math.max(0, now - time));
    }
  }
}

const resumedFrameSchema = z.object({ type: z.literal('resumed'), replayed: z.number() });

/** Resume requests and replayed events, read from the frames a client message produced. */
export function recordResumeMetrics(metrics: Metrics, frames: readonly string[]): void {
  for (const frame of frames) {
    if (!frame.startsWith('{"type":"resumed"')) continue;
    const resumed = resumedFrameSchema.safeParse(JSON.parse(frame));
    if (!resumed.success) continue;
    metrics.addMetric(METRIC.resumeRequests, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.resumeReplayed, MetricUnit.Count, resumed.data.replayed);
  }
}
