import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebhookEndpoint } from '../../src/core/webhookEndpoint.js';
import { EVIDENCE_BODY_BYTES, responseEvidence, utf8Prefix } from '../../src/core/webhookEvidence.js';
import {
  type AcquireResult,
  DEFAULT_FLOW_POLICY,
  type FlowLease,
  type FlowPolicy,
  type FlowPort,
  flowPolicyFromEnv,
  isFast,
  LocalFlow,
  maxInFlightOf,
  passFlowGate,
  SLOW_MAX_IN_FLIGHT,
  saturatedDelaySeconds,
} from '../../src/core/webhookFlow.js';
import { endpointFactory } from './webhookFactories.js';

/** An in-memory FlowPort with the same rules as the DynamoDB one (cap 1 unless the last request was fast). */
function memoryFlow(options: { lastLatencyMs?: number; nextSlotAt?: number } = {}) {
  const leases = new Set<string>();
  let lastLatencyMs = options.lastLatencyMs;
  let nextSlotAt = options.nextSlotAt;
  let n = 0;
  const port: FlowPort & { leases: Set<string> } = {
    leases,
    async acquire(endpoint: WebhookEndpoint, _now: Date, policy: FlowPolicy): Promise<AcquireResult> {
      const cap = isFast(lastLatencyMs, policy) ? maxInFlightOf(endpoint) : SLOW_MAX_IN_FLIGHT;
      if (leases.size >= cap)
        return { kind: 'saturated', ...(lastLatencyMs !== undefined ? { lastLatencyMs } : {}) };
      const lease: FlowLease = { tenantId: endpoint.tenantId, endpointId: endpoint.id, leaseId: String(n++) };
      leases.add(lease.leaseId);
      return { kind: 'acquired', lease };
    },
    async release(lease, durationMs) {
      leases.delete(lease.leaseId);
      if (durationMs !== undefined) lastLatencyMs = durationMs;
    },
    async reserveRateSlot(endpoint, now) {
      const interval = 1000 / (endpoint.rateLimitPerSecond ?? 1);
      const slot = nextSlotAt !== undefined && nextSlotAt >= now.getTime() ? nextSlotAt : now.getTime();
      nextSlotAt = slot + interval;
      return new Date(slot);
    },
  };
  return port;
}

const NOW = new Date('2026-11-30T03:00:00Z');
const policy: FlowPolicy = { ...DEFAULT_FLOW_POLICY, waitBudgetMs: 200 };

describe('flow gate', () => {
  it('lets an unmeasured endpoint send one request and defers the next unsent at once, with a short delay', async () => {
    const flow = memoryFlow();
    const endpoint = endpointFactory();
    let clock = NOW.getTime();
    const base = {
      endpoint,
      flow,
      local: new LocalFlow(),
      policy,
      now: () => new Date(clock),
      random: () => 0,
      sleep: async (ms: number) => {
        clock += ms;
      },
    };
    expect((await passFlowGate(base)).kind).toBe('go');
    const second = await passFlowGate(base);
    expect(second).toEqual({ kind: 'defer', reason: 'saturated', delaySeconds: 1 });
    expect(clock).toBe(NOW.getTime());
  });

  it('defers at once when the request in flight has already run past the slow threshold', async () => {
    const flow: FlowPort = {
      acquire: async () => ({ kind: 'saturated', oldestInFlightMs: 3_000 }),
      release: async () => {},
      reserveRateSlot: async (_e, now) => now,
    };
    const gate = await passFlowGate({
      endpoint: endpointFactory(),
      flow,
      local: new LocalFlow(),
      policy,
      now: () => NOW,
      random: () => 0,
      sleep: async () => {
        throw new Error('must not wait');
      },
    });
    expect(gate).toEqual({ kind: 'defer', reason: 'saturated', delaySeconds: 3 });
  });

  it('defers for a slow endpoint at once, spread over one to eight of its request durations', async () => {
    const flow = memoryFlow({ lastLatencyMs: 4000 });
    const endpoint = endpointFactory();
    const base = { endpoint, flow, local: new LocalFlow(), policy, now: () => NOW };
    await passFlowGate({ ...base, random: () => 0 });
    expect(await passFlowGate({ ...base, random: () => 0 })).toMatchObject({ delaySeconds: 4 });
    expect(await passFlowGate({ ...base, random: () => 0.999 })).toMatchObject({ delaySeconds: 32 });
  });

  it('waits a little for a fast endpoint that is momentarily full', async () => {
    const flow = memoryFlow({ lastLatencyMs: 5 });
    const endpoint = endpointFactory({ maxInFlight: 1 });
    const base = { endpoint, flow, local: new LocalFlow(), policy, now: () => new Date(), random: () => 0 };
    const first = await passFlowGate(base);
    if (first.kind !== 'go') throw new Error('first should go');
    setTimeout(() => void flow.release(first.lease, 5), 30);
    expect((await passFlowGate(base)).kind).toBe('go');
  });

  it('uses the whole maxInFlight once the endpoint is fast', async () => {
    const flow = memoryFlow({ lastLatencyMs: 5 });
    const endpoint = endpointFactory({ maxInFlight: 3 });
    const base = {
      endpoint,
      flow,
      local: new LocalFlow(),
      policy: { ...policy, waitBudgetMs: 0 },
      now: () => new Date(),
      random: () => 0,
    };
    const gates = await Promise.all([1, 2, 3, 4].map(() => passFlowGate(base)));
    expect(gates.map((g) => g.kind)).toEqual(['go', 'go', 'go', 'defer']);
  });

  it('waits for a request of its own invocation to the same endpoint instead of deferring', async () => {
    const flow = memoryFlow();
    const endpoint = endpointFactory();
    const local = new LocalFlow();
    const base = {
      endpoint,
      flow,
      local,
      policy: { ...policy, waitBudgetMs: 5000 },
      now: () => new Date(),
      random: () => 0,
    };
    const first = await passFlowGate(base);
    if (first.kind !== 'go') throw new Error('first should go');
    local.started(endpoint.id);
    const second = passFlowGate(base);
    setTimeout(() => {
      void flow.release(first.lease, 3).then(() => local.finished(endpoint.id));
    }, 20);
    expect((await second).kind).toBe('go');
  });

  it('spaces requests by the rate limit and defers one whose slot is beyond the budget, keeping the slot', async () => {
    const flow = memoryFlow({ lastLatencyMs: 1 });
    const endpoint = endpointFactory({ rateLimitPerSecond: 1 });
    let clock = NOW.getTime();
    const slept: number[] = [];
    const base = {
      endpoint,
      flow,
      local: new LocalFlow(),
      policy: { ...policy, waitBudgetMs: 500 },
      now: () => new Date(clock),
      random: () => 0,
      sleep: async (ms: number) => {
        slept.push(ms);
        clock += ms;
      },
    };
    const first = await passFlowGate(base);
    expect(first.kind).toBe('go');
    const second = await passFlowGate(base);
    expect(second).toEqual({
      kind: 'defer',
      reason: 'rate_limited',
      delaySeconds: 1,
      reservedAt: new Date(NOW.getTime() + 1000).toISOString(),
    });
    // The deferred lease was given back; the slot was not.
    expect(flow.leases.size).toBe(1);
    clock += 1000;
    expect(
      (await passFlowGate({ ...base, reservedAt: new Date(NOW.getTime() + 1000).toISOString() })).kind,
    ).toBe('go');
  });

  it('reads its policy from the environment and refuses nonsense', () => {
    expect(flowPolicyFromEnv({})).toEqual(DEFAULT_FLOW_POLICY);
    expect(flowPolicyFromEnv({ WEBHOOK_SLOW_AFTER_MS: '500' }).slowAfterMs).toBe(500);
    expect(() => flowPolicyFromEnv({ WEBHOOK_WAIT_BUDGET_MS: '-1' })).toThrow('WEBHOOK_WAIT_BUDGET_MS');
    expect(saturatedDelaySeconds(undefined, () => 0)).toBe(1);
    expect(saturatedDelaySeconds(10 * 60 * 1000, () => 1)).toBe(60);
  });
});

describe('response evidence', () => {
  it('keeps at most 1 KB of UTF-8, never splitting a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), (body) => {
        const { responseBody, responseBodyTruncated } = responseEvidence(body, []);
        expect(Buffer.byteLength(responseBody)).toBeLessThanOrEqual(EVIDENCE_BODY_BYTES);
        expect(body.startsWith(responseBody)).toBe(true);
        expect(responseBodyTruncated === true).toBe(responseBody.length < body.length);
        expect(responseBody.includes('\uFFFD')).toBe(body.includes('\uFFFD'));
      }),
    );
    expect(utf8Prefix('é'.repeat(600), 1023)).toBe('é'.repeat(511));
  });

  it('blanks an echoed signing secret, whole or without its prefix, even across the cut', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const echoed = responseEvidence(`{"got":"${secret}","key":"${secret.slice(6)}"}`, [secret]);
    expect(echoed.responseBody).not.toContain(secret.slice(6, 30));
    const across = responseEvidence(`${'x'.repeat(1010)}${secret}`, [secret]);
    expect(across.responseBody).not.toContain(secret.slice(0, 10));
    expect(across.responseBody.endsWith('[redacted]'.slice(0, 14))).toBe(true);
  });
});
