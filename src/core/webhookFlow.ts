/**
 * Fair delivery: what an endpoint may have in flight, and at what rate, so that its slowness or
 * failure costs only itself. Pure rules plus the per-invocation wait; the shared state (leases,
 * the last latency, the next rate slot) lives on the endpoint's record behind `FlowPort`
 * (src/aws/webhookFlowControl.ts), because on AWS several delivery invocations run at once.
 *
 * - **In-flight cap.** Each request holds a lease on its endpoint until it completes (or the
 *   lease expires: its timeout plus a margin, so a crashed invocation cannot leak a slot). An
 *   endpoint may hold `maxInFlight` leases once its last request was fast, and ONE while it is
 *   slow (last request ≥ `slowAfterMs`, a timeout included) or unknown. A slow endpoint therefore
 *   occupies at most one delivery invocation, whatever its backlog.
 * - **Saturated → deferred unsent.** A message whose endpoint has no free slot is not sent and
 *   not counted as an attempt: it goes back to the queue with a short delay, spread by the
 *   endpoint's last latency. Inside one invocation a message may first wait (bounded by
 *   `waitBudgetMs`) when that costs nothing: its endpoint is fast, or this invocation is already
 *   waiting on a request to it.
 * - **Rate limit.** An endpoint with `rateLimitPerSecond` gets its requests spaced by a reserved
 *   slot each (`nextSlotAt` advances by 1/rate per request); a message whose slot is further than
 *   `waitBudgetMs` away is deferred to that slot and keeps it (`reservedAt`), so nothing is dropped
 *   and the rate holds across invocations.
 */
import { type Env, readWholeNumber } from './envSettings.js';
import { SQS_MAX_DELAY_SECONDS } from './limits.js';
import type { WebhookEndpoint } from './webhookEndpoint.js';

export interface FlowPolicy {
  /** A request that took at least this long marks its endpoint slow (one request at a time). */
  readonly slowAfterMs: number;
  /** How long a message may wait inside one invocation for its endpoint's slot or rate slot. */
  readonly waitBudgetMs: number;
  /** Leases outlive the request's timeout by this much before anyone may reclaim them. */
  readonly leaseMarginMs: number;
}

export const FLOW_SLOW_AFTER_ENV = 'WEBHOOK_SLOW_AFTER_MS';
export const FLOW_WAIT_BUDGET_ENV = 'WEBHOOK_WAIT_BUDGET_MS';

export const DEFAULT_FLOW_POLICY: FlowPolicy = {
  slowAfterMs: 2_000,
  waitBudgetMs: 1_000,
  leaseMarginMs: 5_000,
};
/** In-flight requests per endpoint, unless the endpoint says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 10;
export const MAX_IN_FLIGHT_LIMIT = 100;
export const MAX_RATE_LIMIT_PER_SECOND = 1_000;
/** What a slow (or not yet measured) endpoint may have in flight. */
export const SLOW_MAX_IN_FLIGHT = 1;
/** Longest delay of a deferral for a saturated endpoint (it is retried well before its lease could expire). */
export const MAX_SATURATED_DELAY_SECONDS = 60;

export function flowPolicyFromEnv(env: Env): FlowPolicy {
  return {
    slowAfterMs: readWholeNumber(env, FLOW_SLOW_AFTER_ENV, {
      fallback: DEFAULT_FLOW_POLICY.slowAfterMs,
      min: 0,
      max: 60_000,
      unit: 'milliseconds',
    }),
    waitBudgetMs: readWholeNumber(env, FLOW_WAIT_BUDGET_ENV, {
      fallback: DEFAULT_FLOW_POLICY.waitBudgetMs,
      min: 0,
      max: 10_000,
      unit: 'milliseconds',
    }),
    leaseMarginMs: DEFAULT_FLOW_POLICY.leaseMarginMs,
  };
}

export function maxInFlightOf(endpoint: Pick<WebhookEndpoint, 'maxInFlight'>): number {
  return endpoint.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
}

/** A held slot: released when its request completes. */
export interface FlowLease {
  readonly tenantId: string;
  readonly endpointId: string;
  readonly leaseId: string;
}

export type AcquireResult =
  | { readonly kind: 'acquired'; readonly lease: FlowLease }
  /**
   * No free slot. `lastLatencyMs`: the last completed request's duration; `oldestInFlightMs`: how
   * long the oldest request still in flight has run (a hanging endpoint shows here first).
   */
  | { readonly kind: 'saturated'; readonly lastLatencyMs?: number; readonly oldestInFlightMs?: number };

/** The shared in-flight and rate state of endpoints (one record per endpoint). */
export interface FlowPort {
  acquire(endpoint: WebhookEndpoint, now: Date, policy: FlowPolicy): Promise<AcquireResult>;
  /** Frees the slot and records how long the request took (the slow/fast signal); no duration = nothing was sent. */
  release(lease: FlowLease, durationMs?: number): Promise<void>;
  /** Reserves the endpoint's next rate slot; resolves with its time. */
  reserveRateSlot(endpoint: WebhookEndpoint, now: Date): Promise<Date>;
}

/** Whether a lease stored with expiry `expiresAtMs` may be reclaimed at `now`. */
export function leaseExpired(expiresAtMs: number, now: Date): boolean {
  return !Number.isFinite(expiresAtMs) || expiresAtMs <= now.getTime();
}

export function leaseExpiry(
  endpoint: Pick<WebhookEndpoint, 'timeoutSeconds'>,
  now: Date,
  policy: FlowPolicy,
): number {
  return now.getTime() + endpoint.timeoutSeconds * 1000 + policy.leaseMarginMs;
}

/** How long the request holding a lease with this expiry has run (leases store only their expiry). */
export function leaseAgeMs(
  expiresAtMs: number,
  endpoint: Pick<WebhookEndpoint, 'timeoutSeconds'>,
  now: Date,
  policy: FlowPolicy,
): number {
  return Math.max(now.getTime() - (expiresAtMs - endpoint.timeoutSeconds * 1000 - policy.leaseMarginMs), 0);
}

/** Whether an endpoint counts as fast (may use its whole `maxInFlight`). */
export function isFast(lastLatencyMs: number | undefined, policy: FlowPolicy): boolean {
  return lastLatencyMs !== undefined && lastLatencyMs < policy.slowAfterMs;
}

/**
 * The delay of a deferral for a saturated endpoint: one to eight of its requests' durations, so
 * its backlog comes back spread out (cheaply, a few messages at a time) rather than all at once
 * (SQS delays are whole seconds, 1 at least). A slow endpoint's slot stays busy all the same.
 */
export function saturatedDelaySeconds(lastLatencyMs: number | undefined, random: () => number): number {
  // Not measured yet: its first request is about to tell; come back as soon as SQS allows.
  if (lastLatencyMs === undefined) return 1;
  const base = Math.max(lastLatencyMs / 1000, 1);
  return Math.min(Math.max(Math.ceil(base * (1 + 7 * random())), 1), MAX_SATURATED_DELAY_SECONDS);
}

/** The rate limit's spacing between two requests. */
export function rateIntervalMs(rateLimitPerSecond: number): number {
  return Math.max(Math.floor(1000 / rateLimitPerSecond), 1);
}

/** Seconds until a reserved slot (a deferral's delay; SQS counts whole seconds). */
export function secondsUntil(slot: Date, now: Date): number {
  return Math.min(Math.max(Math.ceil((slot.getTime() - now.getTime()) / 1000), 1), SQS_MAX_DELAY_SECONDS);
}

/**
 * The requests of one invocation, per endpoint: lets a message wait for a slot its own
 * invocation is about to free instead of deferring (no cost: the invocation waits for that
 * request anyway).
 */
export class LocalFlow {
  private readonly running = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  /** Endpoints found saturated (and not worth waiting for) since this invocation's last release for them. */
  private readonly saturated = new Map<string, { evidenceMs: number | undefined }>();

  /** Set when this invocation already found the endpoint full and not worth waiting for (with the latency seen). */
  knownSaturated(endpointId: string): { evidenceMs: number | undefined } | undefined {
    return this.saturated.get(endpointId);
  }

  markSaturated(endpointId: string, evidenceMs: number | undefined): void {
    this.saturated.set(endpointId, { evidenceMs });
  }

  started(endpointId: string): void {
    this.running.set(endpointId, (this.running.get(endpointId) ?? 0) + 1);
  }

  finished(endpointId: string): void {
    this.running.set(endpointId, Math.max((this.running.get(endpointId) ?? 1) - 1, 0));
    this.saturated.delete(endpointId);
    const waiting = this.waiters.get(endpointId) ?? [];
    this.waiters.delete(endpointId);
    for (const wake of waiting) wake();
  }

  isRunning(endpointId: string): boolean {
    return (this.running.get(endpointId) ?? 0) > 0;
  }

  /** Resolves when a request of this invocation to the endpoint finishes, or after `ms`. */
  waitForRelease(endpointId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(ms, 0));
      const list = this.waiters.get(endpointId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(endpointId, list);
    });
  }
}

export type FlowGate =
  | { readonly kind: 'go'; readonly lease: FlowLease }
  | {
      readonly kind: 'defer';
      readonly delaySeconds: number;
      readonly reason: 'saturated' | 'rate_limited';
      readonly reservedAt?: string;
    };

/** How often a message waiting for a fast endpoint's slot asks again. */
const POLL_MS = 50;

/**
 * Gets a slot (and, with a rate limit, a rate slot) for one request, waiting within the budget
 * only where waiting is free; otherwise says how long to defer the message.
 */
export async function passFlowGate(input: {
  endpoint: WebhookEndpoint;
  /** A rate slot this message already holds (it was deferred to it). */
  reservedAt?: string;
  flow: FlowPort;
  local: LocalFlow;
  policy: FlowPolicy;
  now: () => Date;
  random: () => number;
  sleep?: (ms: number) => Promise<void>;
}): Promise<FlowGate> {
  const { endpoint, flow, local, policy } = input;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = input.now().getTime() + policy.waitBudgetMs;
  let lease: FlowLease | undefined;
  for (;;) {
    // Another message of this invocation already found the endpoint full: no need to ask again.
    const known = local.isRunning(endpoint.id) ? undefined : local.knownSaturated(endpoint.id);
    if (known) {
      return {
        kind: 'defer',
        reason: 'saturated',
        delaySeconds: saturatedDelaySeconds(known.evidenceMs, input.random),
      };
    }
    const result = await flow.acquire(endpoint, input.now(), policy);
    if (result.kind === 'acquired') {
      lease = result.lease;
      break;
    }
    const remaining = deadline - input.now().getTime();
    if (remaining > 0 && local.isRunning(endpoint.id)) {
      await local.waitForRelease(endpoint.id, remaining);
      continue;
    }
    // Waiting on another invocation's request is worth it only for an endpoint known to be fast
    // whose requests in flight have not run past the slow threshold; anything else is deferred.
    const inFlightMs = result.oldestInFlightMs ?? 0;
    if (remaining > 0 && isFast(result.lastLatencyMs, policy) && inFlightMs < policy.slowAfterMs) {
      await sleep(Math.min(POLL_MS, remaining));
      continue;
    }
    const evidence = Math.max(result.lastLatencyMs ?? 0, inFlightMs);
    local.markSaturated(endpoint.id, evidence > 0 ? evidence : undefined);
    return {
      kind: 'defer',
      reason: 'saturated',
      delaySeconds: saturatedDelaySeconds(evidence > 0 ? evidence : undefined, input.random),
    };
  }
  if (endpoint.rateLimitPerSecond === undefined) return { kind: 'go', lease };

  const now = input.now();
  let slot: Date;
  if (input.reservedAt !== undefined) {
    slot = new Date(input.reservedAt);
  } else {
    try {
      slot = await flow.reserveRateSlot(endpoint, now);
    } catch (error) {
      await flow.release(lease);
      throw error;
    }
  }
  const wait = slot.getTime() - now.getTime();
  if (wait <= 0) return { kind: 'go', lease };
  if (wait <= Math.min(policy.waitBudgetMs, Math.max(deadline - now.getTime(), 0))) {
    await sleep(wait);
    return { kind: 'go', lease };
  }
  // Not sent: give the slot back for others now, keep the rate slot for this message.
  await flow.release(lease);
  return {
    kind: 'defer',
    reason: 'rate_limited',
    delaySeconds: secondsUntil(slot, now),
    reservedAt: slot.toISOString(),
  };
}
