/**
 * The arithmetic behind the deployment rules, shared by config validation (lib/config.ts), the
 * rule pack (lib/nag/OutboxRelayChecks.ts) and the constructs that size queues. Pure: no CDK
 * imports, so the property tests can sweep the whole configuration space cheaply.
 */
import { JITTER_RATIO, MAX_RETRY_DELAY_SECONDS } from '../../src/core/retrySchedule.js';

/**
 * Lambda asks for an SQS source queue's visibility timeout of at least six times the function's
 * timeout plus the batching window, so a throttled or slow batch does not reappear while it runs.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** API Gateway WebSocket integrations time out after 29 s at most (not raisable). */
export const WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS = 29;

/** SQS keeps a message at most 14 days; retention is at least 60 s. */
export const SQS_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** Lambda's range for an SQS mapping's maximum concurrency. */
export const SQS_MAX_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;

/**
 * Room between the last scheduled attempt and the message's expiry: a backlog, a throttled
 * mapping or an open circuit can hold a message well past its scheduled time.
 */
export const RETENTION_MARGIN_SECONDS = 24 * 60 * 60;

const DAY_SECONDS = 24 * 60 * 60;

/** The smallest visibility timeout Lambda's guidance allows for a consumer. */
export function requiredVisibilitySeconds(
  functionTimeoutSeconds: number,
  batchingWindowSeconds: number,
): number {
  return VISIBILITY_TIMEOUT_FACTOR * functionTimeoutSeconds + batchingWindowSeconds;
}

/**
 * Longest time a message can live under the webhook retry schedule when every attempt fails.
 * Each retry waits at most MAX_RETRY_DELAY_SECONDS: the jittered schedule is capped there, and a
 * receiver's `Retry-After` (honoured on 429/503) can push any retry up to that cap, so only the
 * number of attempts bounds the total. Plus one visibility timeout per attempt (a batch that fails
 * whole returns only after the queue's timeout). Retries reuse the message
 * (ChangeMessageVisibility), so its age counts from the first send.
 */
export function worstCaseRetrySeconds(schedule: readonly number[], visibilitySeconds: number): number {
  const retries = Math.max(schedule.length - 1, 0);
  return retries * MAX_RETRY_DELAY_SECONDS + schedule.length * visibilitySeconds;
}

/** Retention a queue needs so that its retries end (in success or the DLQ) before SQS deletes the message. */
export function requiredRetentionSeconds(schedule: readonly number[], visibilitySeconds: number): number {
  return worstCaseRetrySeconds(schedule, visibilitySeconds) + RETENTION_MARGIN_SECONDS;
}

/** Redrive without a schedule: `maxReceiveCount` receives, each hidden for one visibility timeout. */
export function requiredRedriveRetentionSeconds(maxReceiveCount: number, visibilitySeconds: number): number {
  return maxReceiveCount * visibilitySeconds + RETENTION_MARGIN_SECONDS;
}

/** Whole days that cover `seconds` (for messages). */
export function daysCovering(seconds: number): number {
  return Math.ceil(seconds / DAY_SECONDS);
}

/**
 * How long a message normally stays in the delivery queue when every attempt fails and no
 * receiver sends `Retry-After`: the schedule at its largest jitter, plus one visibility timeout per
 * attempt. Older than this, something is stuck (the queue-age alarm's threshold).
 */
export function scheduledRetrySpanSeconds(schedule: readonly number[], visibilitySeconds: number): number {
  const delays = schedule
    .slice(1)
    .reduce(
      (sum, delay) => sum + Math.min(Math.ceil(delay * (1 + JITTER_RATIO)), MAX_RETRY_DELAY_SECONDS),
      0,
    );
  return delays + schedule.length * visibilitySeconds;
}
