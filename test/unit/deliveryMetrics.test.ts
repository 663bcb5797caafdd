import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { recordFanoutMetrics, recordResumeMetrics } from '../../src/aws/deliveryMetrics.js';
import { METRIC } from '../../src/core/metricNames.js';
import { envelopeFactory } from '../helpers/envelopes.js';
import { fanoutSummaryFactory } from '../helpers/fanoutSummary.js';

const NAMES: readonly string[] = Object.values(METRIC);

function stored(metrics: Metrics): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(metrics.serializeMetrics()).filter(([key]) => NAMES.includes(key)),
  );
}

describe('delivery metrics', () => {
  it('records subscribers, delivered, failed, refreshed and the lag of delivered events', () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'fanout' });
    const time = '2026-11-23T10:00:00.000Z';
    recordFanoutMetrics(
      metrics,
      [
        fanoutSummaryFactory({
          eventId: 'e1',
          subscribers: 3,
          delivered: 2,
          failed: 1,
          refreshed: 1,
          messages: 2,
        }),
        fanoutSummaryFactory({ eventId: 'e2' }),
      ],
      [envelopeFactory({ id: 'e1', tenantId: 't1', time })],
      Date.parse(time) + 250,
    );
    expect(stored(metrics)).toMatchObject({
      [METRIC.fanoutSubscribers]: [3, 0],
      [METRIC.fanoutDelivered]: [2, 0],
      [METRIC.fanoutFailed]: [1, 0],
      [METRIC.fanoutRefreshed]: [1, 0],
      [METRIC.endToEndLag]: 250,
    });
  });

  it('counts resume requests and replayed events from the resumed frames only', () => {
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'wsMessage' });
    recordResumeMetrics(metrics, [
      JSON.stringify({ type: 'event', event: {} }),
      JSON.stringify({ type: 'resumed', channel: 'a', replayed: 4 }),
      JSON.stringify({ type: 'resumed', channel: 'b', replayed: 0 }),
    ]);
    expect(stored(metrics)).toMatchObject({
      [METRIC.resumeRequests]: [1, 1],
      [METRIC.resumeReplayed]: [4, 0],
    });
  });
});
