/**
 * When a targeted delivery (one connection's messages whose `@connections` calls kept failing)
 * is tried again, and when it is given up. The fan-out handler applies the decision: re-enqueue
 * with the delay, or dead-letter (and audit) the delivery.
 */
import { SQS_MAX_DELAY_SECONDS } from './limits.js';

/** A targeted delivery still failing after this many attempts is dead-lettered (and audited). */
export const MAX_TARGETED_ATTEMPTS = 5;

export type TargetedRetryDecision =
  | { readonly kind: 'retry'; readonly delaySeconds: number }
  | { readonly kind: 'dead-letter' };

/**
 * Exponential back-off (2^attempt seconds) capped at SQS's maximum message delay, since the retry
 * is a delayed message on the fan-out queue.
 */
export function targetedRetryDelaySeconds(attempt: number): number {
  return Math.min(SQS_MAX_DELAY_SECONDS, 2 ** attempt);
}

/** `attempt` is the attempt number the remaining messages would be sent with next. */
export function targetedRetryDecision(attempt: number): TargetedRetryDecision {
  if (attempt >= MAX_TARGETED_ATTEMPTS) return { kind: 'dead-letter' };
  return { kind: 'retry', delaySeconds: targetedRetryDelaySeconds(attempt) };
}
