/**
 * What one webhook attempt's result means: delivered, retry later (and when), or dead (to the
 * DLQ, with the reason), and whether the endpoint must be disabled. Pure.
 */

import { type Env, readWholeNumber } from './envSettings.js';
import { parseRetryAfter, retryDelaySeconds } from './retrySchedule.js';
import type { DeadLetterReasonCode } from './webhookMessages.js';

export type HttpErrorCode = 'timeout' | 'connection' | 'address_refused' | 'url_refused';

export type HttpAttemptResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfter?: string;
      readonly location?: string;
      /** The start of the receiver's response body (evidence; `webhookEvidence.ts` bounds what is kept). */
      readonly body?: string;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'error';
      readonly code: HttpErrorCode;
      readonly message: string;
      readonly durationMs: number;
    };

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly failure: string }
  | {
      readonly kind: 'dead';
      readonly code: DeadLetterReasonCode;
      readonly reason: string;
      readonly failure: string;
      /** Set when the endpoint must be disabled (410 Gone). */
      readonly disableEndpoint?: string;
    };

/** One line saying what went wrong, for the audit and the DLQ reason. */
export function describeFailure(result: HttpAttemptResult): string {
  if (result.kind === 'error') return result.message;
  if (result.status >= 300 && result.status < 400) {
    return `redirect refused (HTTP ${result.status}${result.location ? ` to ${result.location}` : ''}); redirects are never followed`;
  }
  return `HTTP ${result.status}`;
}

export function isSuccess(result: HttpAttemptResult): boolean {
  return result.kind === 'response' && result.status >= 200 && result.status < 300;
}

export function decideOutcome(input: {
  result: HttpAttemptResult;
  attempt: number;
  maxAttempts: number;
  schedule: readonly number[];
  now: Date;
  random: () => number;
}): DeliveryOutcome {
  const { result, attempt, maxAttempts } = input;
  if (result.kind === 'response' && isSuccess(result)) return { kind: 'delivered', status: result.status };
  const failure = describeFailure(result);
  if (result.kind === 'response' && result.status === 410) {
    return {
      kind: 'dead',
      code: 'endpoint_gone',
      reason: `receiver answered 410 Gone on attempt ${attempt}; the endpoint was disabled`,
      failure,
      disableEndpoint: 'receiver answered 410 Gone',
    };
  }
  // The URL itself is refused by policy: retrying cannot help until an operator changes it.
  if (result.kind === 'error' && result.code === 'url_refused') {
    return { kind: 'dead', code: 'url_refused', reason: `URL refused: ${result.message}`, failure };
  }
  // The name resolved to a refused address at connect time (DNS rebinding, or a name pointing
  // inside): final too. Retrying would keep knocking on an internal address for a day.
  if (result.kind === 'error' && result.code === 'address_refused') {
    return {
      kind: 'dead',
      code: 'url_refused',
      reason: `URL refused at connect time: ${result.message}`,
      failure,
    };
  }
  if (attempt >= maxAttempts) {
    return {
      kind: 'dead',
      code: 'attempts_exhausted',
      reason: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}; last: ${failure}`,
      failure,
    };
  }
  const honoursRetryAfter = result.kind === 'response' && (result.status === 429 || result.status === 503);
  const retryAfterSeconds = honoursRetryAfter ? parseRetryAfter(result.retryAfter, input.now) : undefined;
  const delaySeconds = retryDelaySeconds({
    schedule: input.schedule,
    nextAttempt: attempt + 1,
    retryAfterSeconds,
    random: input.random,
  });
  return { kind: 'retry', delaySeconds, failure };
}

export interface StreakPolicy {
  /** Consecutive failed attempts before an endpoint may be disabled. */
  readonly minFailures: number;
  /** And for at least this long (seconds since the streak began). */
  readonly minSeconds: number;
}

export const STREAK_FAILURES_ENV = 'WEBHOOK_DISABLE_AFTER_FAILURES';
export const STREAK_SECONDS_ENV = 'WEBHOOK_DISABLE_AFTER_SECONDS';

/**
 * Established services disable an endpoint after days of failure. Both conditions must hold, so
 * a burst of failures during a short outage never disables anything.
 */
export const DEFAULT_STREAK_POLICY: StreakPolicy = { minFailures: 100, minSeconds: 5 * 24 * 60 * 60 };

export function streakPolicyFromEnv(env: Env): StreakPolicy {
  return {
    minFailures: Math.max(
      1,
      readWholeNumber(env, STREAK_FAILURES_ENV, { fallback: DEFAULT_STREAK_POLICY.minFailures, min: 0 }),
    ),
    minSeconds: readWholeNumber(env, STREAK_SECONDS_ENV, {
      fallback: DEFAULT_STREAK_POLICY.minSeconds,
      min: 0,
      unit: 'seconds',
    }),
  };
}

export function streakWarrantsDisabling(
  streak: { failureStreak: number; failingSince?: string },
  now: Date,
  policy: StreakPolicy,
): boolean {
  if (streak.failureStreak < policy.minFailures) return false;
  const since = streak.failingSince ? Date.parse(streak.failingSince) : now.getTime();
  return now.getTime() - since >= policy.minSeconds * 1000;
}
