/** Exponential back-off with full jitter, bounded by a time budget. Pure: the clock and randomness are passed in. */

export interface BackoffPolicy {
  /** Delay cap before jitter for the first retry. */
  readonly baseDelayMs: number;
  /** No delay exceeds this. */
  readonly maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1 for the first retry): uniform in [0, min(max, base·2^(retry-1))].
 * Full jitter spreads concurrent retriers apart (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function fullJitterDelayMs(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/** Whether waiting `delayMs` and trying again still leaves `reserveMs` of the budget. */
export function fitsInBudget(delayMs: number, remainingMs: number, reserveMs: number): boolean {
  return remainingMs - delayMs > reserveMs;
}
