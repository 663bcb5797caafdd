/**
 * When a webhook attempt is retried. The default schedule follows the established services
 * (Svix/Standard Webhooks practice): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h —
 * eight attempts over about 28 hours. Each delay gets ±20 % jitter so endpoints that failed
 * together do not retry together. Pure module.
 */
import { SQS_MAX_VISIBILITY_TIMEOUT_SECONDS } from './limits.js';
import { RetryScheduleError } from './webhookErrors.js';

export const RETRY_SCHEDULE_ENV = 'WEBHOOK_RETRY_SCHEDULE';

/** Element i = delay in seconds before attempt i+1; the first attempt is always immediate. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

export const JITTER_RATIO = 0.2;

/**
 * The visibility timeout is capped at 12 h counted from the receive, and we change it a little
 * after receiving; keep a margin so ChangeMessageVisibility is never refused.
 */
export const MAX_RETRY_DELAY_SECONDS = SQS_MAX_VISIBILITY_TIMEOUT_SECONDS - 5 * 60;

/**
 * Highest per-endpoint attempt limit. It stays below the delivery queue's `maxReceiveCount` (20,
 * a backstop for crashed invocations) so the redrive policy never pre-empts our own DLQ step.
 */
export const MAX_ATTEMPTS_LIMIT = 15;

/** Parses `WEBHOOK_RETRY_SCHEDULE` (seconds, comma or space separated); undefined/empty → default. */
export function parseRetrySchedule(raw: string | undefined): readonly number[] {
  if (raw === undefined || raw.trim() === '') return DEFAULT_RETRY_SCHEDULE_SECONDS;
  const parts = raw.split(/[\s,]+/).filter((p) => p !== '');
  const delays = parts.map((part) => {
    const value = Number(part);
    if (!Number.isInteger(value) || value < 0 || value > MAX_RETRY_DELAY_SECONDS) {
      throw new RetryScheduleError(
        `${RETRY_SCHEDULE_ENV}: "${part}" is not a whole number of seconds between 0 and ${MAX_RETRY_DELAY_SECONDS}`,
      );
    }
    return value;
  });
  if (delays[0] !== 0) {
    throw new RetryScheduleError(
      `${RETRY_SCHEDULE_ENV}: the first entry is the first attempt and must be 0 (immediately)`,
    );
  }
  if (delays.length > MAX_ATTEMPTS_LIMIT) {
    throw new RetryScheduleError(
      `${RETRY_SCHEDULE_ENV}: at most ${MAX_ATTEMPTS_LIMIT} attempts, got ${delays.length}`,
    );
  }
  return delays;
}

/** Base delay before `nextAttempt` (2, 3, …); attempts beyond the schedule reuse its last delay. */
export function baseDelaySeconds(schedule: readonly number[], nextAttempt: number): number {
  const index = Math.min(nextAttempt - 1, schedule.length - 1);
  return schedule[Math.max(index, 0)] ?? 0;
}

/** A delay with ±JITTER_RATIO jitter; `random` returns [0, 1). */
export function jittered(baseSeconds: number, random: () => number): number {
  const factor = 1 - JITTER_RATIO + 2 * JITTER_RATIO * random();
  return Math.min(Math.round(baseSeconds * factor), MAX_RETRY_DELAY_SECONDS);
}

/**
 * `Retry-After` in seconds (delta-seconds or an HTTP date), or undefined when absent or
 * unparseable. Only honoured on 429 and 503, where the spec gives it meaning for us.
 */
export function parseRetryAfter(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

/**
 * Delay before the next attempt: the jittered schedule, but never sooner than the receiver's
 * `Retry-After` (honouring it means not coming back earlier), capped by the SQS visibility limit.
 */
export function retryDelaySeconds(input: {
  schedule: readonly number[];
  nextAttempt: number;
  retryAfterSeconds?: number;
  random: () => number;
}): number {
  const scheduled = jittered(baseDelaySeconds(input.schedule, input.nextAttempt), input.random);
  const wanted = Math.max(scheduled, input.retryAfterSeconds ?? 0);
  return Math.min(wanted, MAX_RETRY_DELAY_SECONDS);
}
