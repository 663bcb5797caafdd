/**
 * When an invocation should stop starting work it can leave for later. A function that meets its
 * timeout is killed with nothing settled: its whole batch returns after the queue's visibility
 * timeout and every record it wrote is written again. Stopping a margin before the end lets it
 * report what it finished and hand the rest back (batch item failures) or skip what is optional.
 */

/** The share of an invocation's time kept back for settling its batch. */
export const DEADLINE_MARGIN_SHARE = 0.2;
/** The least time kept back, whatever the timeout. */
export const DEADLINE_MARGIN_MIN_MS = 5_000;

/**
 * The moment (ms since the epoch) to stop starting new work: `now` plus the remaining time less a
 * margin (a fifth of it, at least 5 s, never below `now`). Undefined remaining time (no Lambda
 * context, as in unit tests) means no deadline.
 */
export function workDeadline(remainingMs: number | undefined, now: number): number {
  if (remainingMs === undefined || !Number.isFinite(remainingMs)) return Number.POSITIVE_INFINITY;
  const margin = Math.max(DEADLINE_MARGIN_MIN_MS, remainingMs * DEADLINE_MARGIN_SHARE);
  return now + Math.max(0, remainingMs - margin);
}
