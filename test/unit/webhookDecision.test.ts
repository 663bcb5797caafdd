import { describe, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metricNames.js';
import { decisionMetrics, deferredMessage } from '../../src/core/webhookDecision.js';
import { envelopeFactory } from '../helpers/envelopes.js';
import { deliveryMessageFactory, endpointFactory } from './webhookFactories.js';

describe('webhook decision metrics', () => {
  it('counts a retry as failed and retried, a deferral as deferred', () => {
    expect(
      decisionMetrics({ kind: 'retry', delaySeconds: 5, nextAttemptAt: '2026-11-30T06:00:05Z' }),
    ).toEqual([METRIC.webhookFailed, METRIC.webhookRetried]);
    expect(decisionMetrics({ kind: 'defer', reason: 'circuit_open', delaySeconds: 30, attempt: 2 })).toEqual([
      METRIC.webhookDeferred,
    ]);
  });

  it('counts a dead letter as failed only when a request went out on this receive', () => {
    const done = { kind: 'done', outcome: 'dead_lettered', endpointDisabled: false } as const;
    expect(decisionMetrics({ ...done, attempted: true })).toEqual([
      METRIC.webhookFailed,
      METRIC.webhookDeadLettered,
    ]);
    expect(decisionMetrics({ ...done, attempted: false })).toEqual([METRIC.webhookDeadLettered]);
  });

  it('counts a delivery, and an endpoint it disabled', () => {
    const delivered = { kind: 'done', outcome: 'delivered', attempted: true } as const;
    expect(decisionMetrics({ ...delivered, endpointDisabled: false })).toEqual([METRIC.webhookDelivered]);
    expect(decisionMetrics({ ...delivered, endpointDisabled: true })).toEqual([
      METRIC.webhookDelivered,
      METRIC.webhookEndpointDisabled,
    ]);
  });
});

describe('deferred message', () => {
  const message = {
    ...deliveryMessageFactory(envelopeFactory(), endpointFactory()),
    attempt: 1,
    reservedAt: '2026-11-30T05:00:00.000Z',
  };

  it('carries the unused attempt number and the rate slot the decision holds', () => {
    const next = deferredMessage(message, {
      kind: 'defer',
      reason: 'rate_limited',
      delaySeconds: 3,
      attempt: 4,
      reservedAt: '2026-11-30T06:00:00.000Z',
    });
    expect(next).toEqual({ ...message, attempt: 4, reservedAt: '2026-11-30T06:00:00.000Z' });
  });

  it('drops the received message’s slot when the decision holds none', () => {
    const next = deferredMessage(message, {
      kind: 'defer',
      reason: 'circuit_open',
      delaySeconds: 30,
      attempt: 2,
    });
    expect(next).not.toHaveProperty('reservedAt');
    expect(next).toEqual({ ...(({ reservedAt: _r, ...rest }) => rest)(message), attempt: 2 });
  });
});
