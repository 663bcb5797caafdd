import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryAttemptSchema } from '../../src/core/auditRecord.js';
import {
  errorText,
  fanoutSummaryTarget,
  summaryAttempt,
  summaryOutcome,
  targetedAttempt,
} from '../../src/core/fanoutAttempts.js';
import { TARGETED_DELIVERY_KIND, type TargetedDelivery } from '../../src/core/targetedDelivery.js';
import { fanoutSummaryFactory } from '../helpers/fanoutSummary.js';

const startedAt = new Date('2026-11-30T06:00:00.000Z');

const summary = fanoutSummaryFactory;

const count = fc.nat({ max: 1_000 });

describe('fan-out summary attempt', () => {
  it('is failed when any connection failed or was re-queued, whatever else happened', () => {
    fc.assert(
      fc.property(count, count, count, count, (failed, requeued, delivered, refreshed) => {
        fc.pre(failed + requeued > 0);
        expect(summaryOutcome({ failed, requeued, delivered, refreshed })).toBe('failed');
      }),
    );
  });

  it('is refused when the event only went out as refresh frames, delivered otherwise', () => {
    expect(summaryOutcome(summary({ refreshed: 2 }))).toBe('refused');
    expect(summaryOutcome(summary({ refreshed: 2, delivered: 1 }))).toBe('delivered');
    expect(summaryOutcome(summary())).toBe('delivered');
  });

  it('targets the fan-out, or one shard of a chunked fan-out, and validates as an audit attempt', () => {
    expect(fanoutSummaryTarget(undefined)).toBe('fanout');
    expect(fanoutSummaryTarget(3)).toBe('fanout/shard-3');
    const attempt = summaryAttempt(
      summary({ shard: 7, subscribers: 4, delivered: 3, gone: 1 }),
      startedAt,
      12,
    );
    expect(deliveryAttemptSchema.parse(attempt)).toEqual(attempt);
    expect(attempt).toMatchObject({
      path: 'websocket',
      target: 'fanout/shard-7',
      tenantId: 't1',
      outcome: 'delivered',
      attempt: 1,
      durationMs: 12,
      at: startedAt.toISOString(),
      fanout: { subscribers: 4, delivered: 3, gone: 1, requeued: 0, failed: 0, refreshed: 0, messages: 0 },
    });
  });
});

describe('targeted delivery attempt', () => {
  const delivery: Pick<TargetedDelivery, 'kind' | 'connectionId' | 'attempt'> = {
    kind: TARGETED_DELIVERY_KIND,
    connectionId: 'conn-1',
    attempt: 2,
  };

  it('numbers the attempt after the ones already made and targets the connection', () => {
    expect(targetedAttempt(delivery, { kind: 'delivered' }, undefined, startedAt, 5)).toEqual({
      path: 'websocket',
      target: 'conn-1',
      attempt: 3,
      at: startedAt.toISOString(),
      durationMs: 5,
      outcome: 'delivered',
    });
    expect(targetedAttempt(delivery, { kind: 'gone' }, undefined, startedAt, 5).outcome).toBe('gone');
  });

  it('records a failure as failed when retried and dead-lettered when given up, with the error text', () => {
    const failed = {
      kind: 'failed' as const,
      error: new Error('503 Service Unavailable'),
      remaining: { ...delivery, attempt: 3, messages: [], events: [] } as unknown as TargetedDelivery,
    };
    expect(targetedAttempt(delivery, failed, 'retried', startedAt, 5)).toMatchObject({
      outcome: 'failed',
      error: '503 Service Unavailable',
    });
    expect(targetedAttempt(delivery, failed, 'dead-lettered', startedAt, 5)).toMatchObject({
      outcome: 'dead-lettered',
      error: '503 Service Unavailable',
    });
  });

  it('keeps a thrown non-error as its string form', () => {
    expect(errorText('timeout')).toBe('timeout');
    expect(errorText(new TypeError('bad'))).toBe('bad');
  });
});
