import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SQS_MAX_DELAY_SECONDS } from '../../src/core/limits.js';
import {
  MAX_TARGETED_ATTEMPTS,
  targetedRetryDecision,
  targetedRetryDelaySeconds,
} from '../../src/core/targetedRetry.js';

describe('targeted retry policy', () => {
  it('doubles the delay per attempt (2^attempt seconds)', () => {
    expect([1, 2, 3, 4].map(targetedRetryDelaySeconds)).toEqual([2, 4, 8, 16]);
  });

  it('never delays past SQS’s maximum message delay, and never shortens as attempts grow', () => {
    expect(SQS_MAX_DELAY_SECONDS).toBe(900);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (attempt) => {
        const delay = targetedRetryDelaySeconds(attempt);
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(SQS_MAX_DELAY_SECONDS);
        expect(targetedRetryDelaySeconds(attempt + 1)).toBeGreaterThanOrEqual(delay);
      }),
    );
    expect(targetedRetryDelaySeconds(10)).toBe(SQS_MAX_DELAY_SECONDS);
  });

  it('retries below the attempt limit and dead-letters from it on', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), (attempt) => {
        const decision = targetedRetryDecision(attempt);
        if (attempt >= MAX_TARGETED_ATTEMPTS) expect(decision).toEqual({ kind: 'dead-letter' });
        else expect(decision).toEqual({ kind: 'retry', delaySeconds: 2 ** attempt });
      }),
    );
    expect(targetedRetryDecision(MAX_TARGETED_ATTEMPTS - 1).kind).toBe('retry');
    expect(targetedRetryDecision(MAX_TARGETED_ATTEMPTS).kind).toBe('dead-letter');
  });
});
