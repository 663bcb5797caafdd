import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEADLINE_MARGIN_MIN_MS, workDeadline } from '../../src/core/workDeadline.js';

describe('workDeadline', () => {
  it('keeps a fifth of the time back, and at least 5 s', () => {
    expect(workDeadline(60_000, 1_000)).toBe(1_000 + 48_000);
    expect(workDeadline(10_000, 0)).toBe(5_000);
  });

  it('is now when less than the margin is left, and never before now', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (remaining, now) => {
          const deadline = workDeadline(remaining, now);
          expect(deadline).toBeGreaterThanOrEqual(now);
          expect(deadline).toBeLessThanOrEqual(now + remaining);
          if (remaining <= DEADLINE_MARGIN_MIN_MS) expect(deadline).toBe(now);
          else expect(now + remaining - deadline).toBeGreaterThanOrEqual(DEADLINE_MARGIN_MIN_MS);
        },
      ),
    );
  });

  it('sets no deadline without a remaining time', () => {
    expect(workDeadline(undefined, 5)).toBe(Number.POSITIVE_INFINITY);
    expect(workDeadline(Number.NaN, 5)).toBe(Number.POSITIVE_INFINITY);
  });
});
