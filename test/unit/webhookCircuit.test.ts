/** The per-endpoint circuit breaker: when it opens, how long, and what delivery does meanwhile. */
import { describe, expect, it } from 'vitest';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import type { HttpAttemptResult } from '../../src/core/deliveryOutcome.js';
import {
  type CircuitPolicy,
  circuitCooldownSeconds,
  circuitOpenForSeconds,
  circuitPolicyFromEnv,
} from '../../src/core/webhookCircuit.js';
import { type DeliveryConfig, type DeliveryPorts, deliverMessage } from '../../src/core/webhookDeliver.js';
import { deliveryMessageFactory, endpointFactory, envelopeFactory } from './webhookFactories.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const POLICY: CircuitPolicy = { openAfterFailures: 5, cooldownSeconds: 30 };
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

describe('circuit state', () => {
  it('stays closed below the failure count, without a last failure, or when turned off', () => {
    expect(
      circuitOpenForSeconds({ failureStreak: 4, lastFailureAt: secondsAgo(1) }, NOW, POLICY),
    ).toBeUndefined();
    expect(circuitOpenForSeconds({ failureStreak: 9 }, NOW, POLICY)).toBeUndefined();
    expect(
      circuitOpenForSeconds({ failureStreak: 9, lastFailureAt: secondsAgo(1) }, NOW, {
        ...POLICY,
        openAfterFailures: 0,
      }),
    ).toBeUndefined();
  });

  it('opens for the cool-down after the last failure, doubling per further failure up to 15 minutes', () => {
    expect(circuitOpenForSeconds({ failureStreak: 5, lastFailureAt: secondsAgo(10) }, NOW, POLICY)).toBe(20);
    expect(circuitOpenForSeconds({ failureStreak: 6, lastFailureAt: secondsAgo(10) }, NOW, POLICY)).toBe(50);
    expect(
      circuitOpenForSeconds({ failureStreak: 5, lastFailureAt: secondsAgo(31) }, NOW, POLICY),
    ).toBeUndefined();
    expect([5, 6, 7, 8, 9, 10, 40].map((streak) => circuitCooldownSeconds(streak, POLICY))).toEqual([
      30, 60, 120, 240, 480, 900, 900,
    ]);
  });

  it('reads its settings from the environment, on by default, and refuses nonsense', () => {
    expect(circuitPolicyFromEnv({})).toEqual({ openAfterFailures: 5, cooldownSeconds: 30 });
    expect(circuitPolicyFromEnv({ WEBHOOK_CIRCUIT_FAILURES: '0' }).openAfterFailures).toBe(0);
    expect(
      circuitPolicyFromEnv({ WEBHOOK_CIRCUIT_FAILURES: '3', WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '10' }),
    ).toEqual({ openAfterFailures: 3, cooldownSeconds: 10 });
    expect(() => circuitPolicyFromEnv({ WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '901' })).toThrow(
      'WEBHOOK_CIRCUIT_COOLDOWN_SECONDS',
    );
  });
});

describe('delivery while the circuit is open', () => {
  const config: DeliveryConfig = {
    schedule: [0, 5, 60],
    streak: { minFailures: 1000, minSeconds: 0 },
    circuit: POLICY,
    policy: DEV_POLICY,
    now: () => NOW,
    random: () => 0.5,
  };

  function ports(requests: unknown[], attempts: unknown[]): DeliveryPorts {
    return {
      getEndpoint: async () => undefined,
      post: async (request): Promise<HttpAttemptResult> => {
        requests.push(request);
        return { kind: 'response', status: 204, durationMs: 1 };
      },
      recordAttempt: async (_id, attempt) => {
        attempts.push(attempt);
      },
      recordTenantNote: async () => {},
      recordSuccess: async () => {},
      recordFailure: async () => ({ failureStreak: 1 }),
      disableEndpoint: async () => {},
      deadLetter: async () => {},
    };
  }

  it('sends nothing, records no attempt, and defers with the unused attempt number past the cool-down', async () => {
    const endpoint = endpointFactory({ failureStreak: 5, lastFailureAt: secondsAgo(10) });
    const requests: unknown[] = [];
    const attempts: unknown[] = [];
    const decision = await deliverMessage(
      { ...deliveryMessageFactory(envelopeFactory(), endpoint), attempt: 2 },
      2, // second receive of a message whose first receive was attempt 2: this is attempt 3
      { ...ports(requests, attempts), getEndpoint: async () => endpoint },
      config,
    );
    expect(decision).toEqual({ kind: 'defer', reason: 'circuit_open', delaySeconds: 21, attempt: 3 });
    expect(requests).toEqual([]);
    expect(attempts).toEqual([]);
  });

  it('lets one message probe the endpoint once the cool-down is over', async () => {
    const endpoint = endpointFactory({ failureStreak: 5, lastFailureAt: secondsAgo(31) });
    const requests: unknown[] = [];
    const attempts: unknown[] = [];
    const decision = await deliverMessage(
      deliveryMessageFactory(envelopeFactory(), endpoint),
      1,
      { ...ports(requests, attempts), getEndpoint: async () => endpoint },
      config,
    );
    expect(decision).toMatchObject({ kind: 'done', outcome: 'delivered' });
    expect(requests).toHaveLength(1);
    expect(attempts).toHaveLength(1);
  });
});
