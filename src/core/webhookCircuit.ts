/**
 * A circuit breaker per webhook endpoint, so that one failing or hanging endpoint stops costing
 * the others: after `openAfterFailures` consecutive failed attempts the endpoint's further
 * messages are not sent but deferred until a cool-down after its last failure has passed
 * (doubling per further failure, up to 15 minutes). Then one message probes it: a success closes
 * the circuit (the streak resets), a failure opens it again for longer. Deferral is not an
 * attempt: the message keeps its attempt number and its place in the endpoint's retry schedule.
 *
 * The state is the endpoint's own record (`failureStreak`, `lastFailureAt`), so every delivery
 * invocation sees it, not just the one that met the failures.
 */
import { type Env, readWholeNumber } from './envSettings.js';
import { SQS_MAX_DELAY_SECONDS } from './limits.js';
import type { WebhookEndpoint } from './webhookEndpoint.js';

export interface CircuitPolicy {
  /** Consecutive failures that open the circuit; 0 turns the breaker off. */
  readonly openAfterFailures: number;
  /** Cool-down after the failure that opened it; doubles with each failed probe. */
  readonly cooldownSeconds: number;
}

export const CIRCUIT_FAILURES_ENV = 'WEBHOOK_CIRCUIT_FAILURES';
export const CIRCUIT_COOLDOWN_ENV = 'WEBHOOK_CIRCUIT_COOLDOWN_SECONDS';
/** On by default everywhere, the offline runtime included (`WEBHOOK_CIRCUIT_FAILURES=0` turns it off). */
export const DEFAULT_CIRCUIT_POLICY: CircuitPolicy = { openAfterFailures: 5, cooldownSeconds: 30 };
/** What the stack deploys by default (the same). */
export const RECOMMENDED_CIRCUIT_POLICY: CircuitPolicy = DEFAULT_CIRCUIT_POLICY;
/** SQS's longest message delay: a deferral is a new message delayed by at most this. */
export const MAX_CIRCUIT_COOLDOWN_SECONDS = SQS_MAX_DELAY_SECONDS;

export function circuitPolicyFromEnv(env: Env): CircuitPolicy {
  return {
    openAfterFailures: readWholeNumber(env, CIRCUIT_FAILURES_ENV, {
      fallback: DEFAULT_CIRCUIT_POLICY.openAfterFailures,
      min: 0,
      max: 1_000,
    }),
    cooldownSeconds: readWholeNumber(env, CIRCUIT_COOLDOWN_ENV, {
      fallback: DEFAULT_CIRCUIT_POLICY.cooldownSeconds,
      min: 0,
      max: MAX_CIRCUIT_COOLDOWN_SECONDS,
      unit: 'seconds',
    }),
  };
}

/** The cool-down for this streak: the base, doubled per failure beyond the opening one, capped. */
export function circuitCooldownSeconds(failureStreak: number, policy: CircuitPolicy): number {
  const doublings = Math.min(Math.max(failureStreak - policy.openAfterFailures, 0), 16);
  return Math.min(policy.cooldownSeconds * 2 ** doublings, MAX_CIRCUIT_COOLDOWN_SECONDS);
}

/** Seconds until the endpoint may be tried again, or undefined when its circuit is closed (or half-open). */
export function circuitOpenForSeconds(
  endpoint: Pick<WebhookEndpoint, 'failureStreak' | 'lastFailureAt'>,
  now: Date,
  policy: CircuitPolicy,
): number | undefined {
  if (policy.openAfterFailures === 0 || endpoint.failureStreak < policy.openAfterFailures) return undefined;
  const lastFailure = endpoint.lastFailureAt ? Date.parse(endpoint.lastFailureAt) : Number.NaN;
  if (!Number.isFinite(lastFailure)) return undefined;
  const reopensAt = lastFailure + circuitCooldownSeconds(endpoint.failureStreak, policy) * 1000;
  const remainingMs = reopensAt - now.getTime();
  return remainingMs > 0 ? Math.ceil(remainingMs / 1000) : undefined;
}
