/**
 * Reconnect delays: exponential back-off with "full jitter" (a uniform draw between 0 and the
 * capped exponential), which spreads a crowd of clients that lost the same server.
 */

export interface BackoffOptions {
  /** First ceiling in ms; doubles per failed attempt. */
  readonly baseMs: number;
  /** The ceiling never exceeds this. */
  readonly maxMs: number;
}

/** The ceiling for attempt `n` (0-based): `min(maxMs, baseMs * 2^n)`. */
export function backoffCeilingMs(attempt: number, options: BackoffOptions): number {
  // 2^attempt overflows to Infinity for large attempts; min() then picks maxMs.
  return Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
}

/** The delay before reconnect attempt `n`: uniform in `[0, ceiling)`. */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeilingMs(attempt, options));
}
