import { describe, expect, it } from 'vitest';
import {
  baseDelaySeconds,
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  jittered,
  MAX_RETRY_DELAY_SECONDS,
  parseRetryAfter,
  parseRetrySchedule,
  retryDelaySeconds,
} from '../../src/core/retrySchedule.js';
import { RetryScheduleError } from '../../src/core/webhookErrors.js';

describe('retry schedule', () => {
  it('defaults to immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(parseRetrySchedule(undefined)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(parseRetrySchedule('  ')).toBe(DEFAULT_RETRY_SCHEDULE_SECONDS);
  });

  it('reads a configured schedule in seconds, comma or space separated', () => {
    expect(parseRetrySchedule('0,1, 2 3')).toEqual([0, 1, 2, 3]);
  });

  it.each([
    ['1,2', /first entry .* must be 0/],
    ['0,-1', /"-1" is not a whole number/],
    ['0,1.5', /"1.5" is not a whole number/],
    ['0,50000', /"50000"/],
    [Array.from({ length: 16 }, () => '0').join(','), /at most 15 attempts/],
  ])('refuses %s', (raw, message) => {
    expect(() => parseRetrySchedule(raw)).toThrow(RetryScheduleError);
    expect(() => parseRetrySchedule(raw)).toThrow(message);
  });

  it('reuses the last delay for attempts beyond the schedule', () => {
    expect(baseDelaySeconds([0, 5, 60], 2)).toBe(5);
    expect(baseDelaySeconds([0, 5, 60], 3)).toBe(60);
    expect(baseDelaySeconds([0, 5, 60], 9)).toBe(60);
  });

  it('keeps jitter within ±20 % of the scheduled delay', () => {
    expect(jittered(300, () => 0)).toBe(240);
    expect(jittered(300, () => 0.999999)).toBe(360);
    expect(jittered(300, () => 0.5)).toBe(300);
    for (let i = 0; i < 200; i += 1) {
      const delay = jittered(1800, Math.random);
      expect(delay).toBeGreaterThanOrEqual(1440);
      expect(delay).toBeLessThanOrEqual(2160);
    }
    expect(jittered(0, Math.random)).toBe(0);
  });

  it('never exceeds what SQS visibility allows, even for 10 h with upward jitter', () => {
    expect(jittered(36000, () => 0.999999)).toBe(MAX_RETRY_DELAY_SECONDS);
    expect(MAX_RETRY_DELAY_SECONDS).toBeLessThan(12 * 60 * 60);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-11-20T10:00:00Z');

  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Fri, 20 Nov 2026 10:05:00 GMT', now)).toBe(300);
    expect(parseRetryAfter('Fri, 20 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('is honoured when later than the schedule, and never brings a retry forward', () => {
    const half = () => 0.5;
    expect(
      retryDelaySeconds({ schedule: [0, 5], nextAttempt: 2, retryAfterSeconds: 600, random: half }),
    ).toBe(600);
    expect(
      retryDelaySeconds({ schedule: [0, 300], nextAttempt: 2, retryAfterSeconds: 1, random: half }),
    ).toBe(300);
  });

  it('is capped at the visibility limit', () => {
    expect(
      retryDelaySeconds({ schedule: [0, 5], nextAttempt: 2, retryAfterSeconds: 10 ** 9, random: () => 0.5 }),
    ).toBe(MAX_RETRY_DELAY_SECONDS);
  });
});
