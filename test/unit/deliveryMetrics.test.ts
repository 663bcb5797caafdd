import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { recordFanoutMetrics, recordResumeMetrics } from '../../src/aws/deliveryMetrics.js';
import { METRIC } from '../../src/core/metricNames.js';

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
        {
          eventId: 'e1',
          tenantId: 't',
          channel: 'c',
          subscribers: 3,
          delivered: 2,
          gone: 0,
          requeued: 0,
          failed: 1,
          refreshed: 1,
          messages: 2,
        },
        {
          eventId: 'e2',
          tenantId: 't',
          channel: 'c',
          subscribers: 0,
          delivered: 0,
          gone: 0,
          requeued: 0,
          failed: 0,
          refreshed: 0,
          messages: 0,
        },
      ],
      [
        {
          version: 1,
          id: 'e1',
          source: 'outbox',
          tenantId: 't',
          channel: 'c',
          type: 'x',
          resourceId: null,
          time,
          position: `${time}#e1`,
          data: {},
        },
      ],
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
