import { describe, expect, it } from 'vitest';
import { DEV_POLICY, PRODUCTION_POLICY } from '../../src/core/addressPolicy.js';
import type { DeliveryAttempt } from '../../src/core/auditRecord.js';
import {
  decideOutcome,
  type HttpAttemptResult,
  streakWarrantsDisabling,
} from '../../src/core/deliveryOutcome.js';
import {
  AttemptNotAuditedError,
  AUDIT_WRITE_TRIES,
  type DeliveryConfig,
  type DeliveryPorts,
  deliverMessage,
  type WebhookRequest,
} from '../../src/core/webhookDeliver.js';
import type { WebhookEndpoint } from '../../src/core/webhookEndpoint.js';
import type { DeadLetter } from '../../src/core/webhookMessages.js';
import { deliveryMessageFactory, endpointFactory, envelopeFactory } from './webhookFactories.js';

const NOW = new Date('2026-11-20T10:00:00Z');

function response(
  status: number,
  extra: Partial<Extract<HttpAttemptResult, { kind: 'response' }>> = {},
): HttpAttemptResult {
  return { kind: 'response', status, durationMs: 12, ...extra };
}

describe('attempt outcome', () => {
  const base = { attempt: 1, maxAttempts: 3, schedule: [0, 5, 60], now: NOW, random: () => 0.5 };

  it('treats every 2xx as delivered', () => {
    for (const status of [200, 201, 202, 204, 299]) {
      expect(decideOutcome({ ...base, result: response(status) })).toEqual({ kind: 'delivered', status });
    }
  });

  it('retries other statuses, timeouts and connection errors on the schedule', () => {
    expect(decideOutcome({ ...base, result: response(500) })).toEqual({
      kind: 'retry',
      delaySeconds: 5,
      failure: 'HTTP 500',
    });
    expect(
      decideOutcome({
        ...base,
        attempt: 2,
        result: { kind: 'error', code: 'timeout', message: 'timed out after 15 s', durationMs: 15000 },
      }),
    ).toMatchObject({
      kind: 'retry',
      delaySeconds: 60,
    });
    expect(
      decideOutcome({
        ...base,
        result: { kind: 'error', code: 'connection', message: 'ECONNREFUSED', durationMs: 1 },
      }).kind,
    ).toBe('retry');
  });

  it('refuses redirects as failures', () => {
    expect(decideOutcome({ ...base, result: response(302, { location: 'http://10.0.0.1/' }) })).toMatchObject(
      {
        kind: 'retry',
        failure: 'redirect refused (HTTP 302 to http://10.0.0.1/); redirects are never followed',
      },
    );
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(decideOutcome({ ...base, result: response(429, { retryAfter: '120' }) })).toMatchObject({
      delaySeconds: 120,
    });
    expect(decideOutcome({ ...base, result: response(503, { retryAfter: '90' }) })).toMatchObject({
      delaySeconds: 90,
    });
    expect(decideOutcome({ ...base, result: response(500, { retryAfter: '120' }) })).toMatchObject({
      delaySeconds: 5,
    });
  });

  it('gives up after the last attempt with the reason', () => {
    expect(decideOutcome({ ...base, attempt: 3, result: response(500) })).toMatchObject({
      kind: 'dead',
      code: 'attempts_exhausted',
      reason: 'gave up after 3 attempts; last: HTTP 500',
    });
  });

  it('disables the endpoint on 410 Gone', () => {
    expect(decideOutcome({ ...base, result: response(410) })).toMatchObject({
      kind: 'dead',
      code: 'endpoint_gone',
      disableEndpoint: 'receiver answered 410 Gone',
    });
  });

  it('disables for a streak only when it is both long and old enough', () => {
    const policy = { minFailures: 10, minSeconds: 3600 };
    expect(
      streakWarrantsDisabling({ failureStreak: 9, failingSince: '2026-11-19T00:00:00Z' }, NOW, policy),
    ).toBe(false);
    expect(
      streakWarrantsDisabling({ failureStreak: 50, failingSince: '2026-11-20T09:30:00Z' }, NOW, policy),
    ).toBe(false);
    expect(
      streakWarrantsDisabling({ failureStreak: 10, failingSince: '2026-11-20T08:59:00Z' }, NOW, policy),
    ).toBe(true);
  });
});

interface FakeWorld {
  ports: DeliveryPorts;
  endpoint: WebhookEndpoint | undefined;
  requests: WebhookRequest[];
  attempts: DeliveryAttempt[];
  notes: { tenantId: string; message: string }[];
  deadLetters: DeadLetter[];
  disabled: string[];
}

function world(endpoint: WebhookEndpoint | undefined, answers: HttpAttemptResult[]): FakeWorld {
  const w: FakeWorld = {
    endpoint,
    requests: [],
    attempts: [],
    notes: [],
    deadLetters: [],
    disabled: [],
    ports: undefined as never,
  };
  let streak = endpoint?.failureStreak ?? 0;
  w.ports = {
    getEndpoint: async () => w.endpoint,
    post: async (request) => {
      w.requests.push(request);
      return answers.shift() ?? response(200);
    },
    recordAttempt: async (_tenantId, _eventId, attempt) => {
      w.attempts.push(attempt);
    },
    recordTenantNote: async (tenantId, note) => {
      w.notes.push({ tenantId, message: note.message });
    },
    recordSuccess: async () => {
      streak = 0;
    },
    recordFailure: async () => {
      streak += 1;
      return { failureStreak: streak, failingSince: '2026-11-01T00:00:00Z' };
    },
    disableEndpoint: async (_endpoint, reason) => {
      w.disabled.push(reason);
    },
    deadLetter: async (letter) => {
      w.deadLetters.push(letter);
    },
  };
  return w;
}

const config: DeliveryConfig = {
  schedule: [0, 5, 60],
  streak: { minFailures: 1000, minSeconds: 0 },
  policy: DEV_POLICY,
  now: () => NOW,
  random: () => 0.5,
  sleep: async () => {},
};

describe('delivering one message', () => {
  it('signs with the event id and records a delivered attempt', async () => {
    const endpoint = endpointFactory();
    const envelope = envelopeFactory();
    const w = world(endpoint, [response(204)]);
    const decision = await deliverMessage(deliveryMessageFactory(envelope, endpoint), 1, w.ports, config);
    expect(decision).toMatchObject({ kind: 'done', outcome: 'delivered' });
    expect(w.requests[0]?.headers['webhook-id']).toBe(envelope.id);
    expect(w.requests[0]?.timeoutSeconds).toBe(15);
    expect(w.attempts).toEqual([
      expect.objectContaining({
        path: 'webhook',
        target: endpoint.id,
        attempt: 1,
        outcome: 'delivered',
        statusCode: 204,
      }),
    ]);
  });

  it('derives the attempt from the receive count and schedules the next one', async () => {
    const endpoint = endpointFactory();
    const w = world(endpoint, [response(500)]);
    const decision = await deliverMessage(
      deliveryMessageFactory(envelopeFactory(), endpoint),
      2,
      w.ports,
      config,
    );
    expect(decision).toEqual({ kind: 'retry', delaySeconds: 60, nextAttemptAt: '2026-11-20T10:01:00.000Z' });
    expect(w.attempts[0]).toMatchObject({
      attempt: 2,
      outcome: 'failed',
      statusCode: 500,
      error: 'HTTP 500',
      nextAttemptAt: '2026-11-20T10:01:00.000Z',
    });
  });

  it('dead-letters with the reason after the endpoint’s last attempt', async () => {
    const endpoint = endpointFactory({ maxAttempts: 3 });
    const w = world(endpoint, [
      { kind: 'error', code: 'timeout', message: 'timed out after 15 s', durationMs: 15000 },
    ]);
    const decision = await deliverMessage(
      deliveryMessageFactory(envelopeFactory(), endpoint),
      3,
      w.ports,
      config,
    );
    expect(decision).toMatchObject({ kind: 'done', outcome: 'dead_lettered' });
    expect(w.deadLetters[0]?.deadLetter).toMatchObject({
      code: 'attempts_exhausted',
      attempts: 3,
      lastError: 'timed out after 15 s',
      reason: 'gave up after 3 attempts; last: timed out after 15 s',
    });
    expect(w.attempts[0]).toMatchObject({ outcome: 'dead-lettered' });
  });

  it('disables the endpoint on 410 and writes a tenant note', async () => {
    const endpoint = endpointFactory();
    const w = world(endpoint, [response(410)]);
    await deliverMessage(deliveryMessageFactory(envelopeFactory(), endpoint), 1, w.ports, config);
    expect(w.disabled).toEqual(['receiver answered 410 Gone']);
    expect(w.notes[0]?.message).toMatch(/was disabled: receiver answered 410 Gone/);
    expect(w.deadLetters[0]?.deadLetter.code).toBe('endpoint_gone');
    expect(w.attempts[0]).toMatchObject({ outcome: 'gone', statusCode: 410 });
  });

  it('disables an endpoint after a long failure streak and parks the message', async () => {
    const endpoint = endpointFactory({ failureStreak: 4 });
    const w = world(endpoint, [response(500)]);
    const decision = await deliverMessage(deliveryMessageFactory(envelopeFactory(), endpoint), 1, w.ports, {
      ...config,
      streak: { minFailures: 5, minSeconds: 0 },
    });
    expect(decision).toMatchObject({ kind: 'done', outcome: 'dead_lettered', endpointDisabled: true });
    expect(w.disabled[0]).toMatch(/failed 5 consecutive attempts/);
    expect(w.notes).toHaveLength(1);
    expect(w.deadLetters[0]?.deadLetter.code).toBe('endpoint_disabled');
  });

  it('parks messages for a disabled or removed endpoint without calling it', async () => {
    const disabled = endpointFactory({ enabled: false, disabledReason: 'by operator' });
    const w = world(disabled, []);
    await deliverMessage(deliveryMessageFactory(envelopeFactory(), disabled), 1, w.ports, config);
    expect(w.requests).toHaveLength(0);
    expect(w.deadLetters[0]?.deadLetter).toMatchObject({
      code: 'endpoint_disabled',
      reason: 'endpoint is disabled (by operator)',
    });

    const gone = world(undefined, []);
    await deliverMessage(deliveryMessageFactory(envelopeFactory(), disabled), 1, gone.ports, config);
    expect(gone.deadLetters[0]?.deadLetter.code).toBe('endpoint_removed');
    expect(gone.attempts[0]).toMatchObject({ outcome: 'refused' });
  });

  it('refuses a URL the production policy forbids without sending, and parks the message', async () => {
    const endpoint = endpointFactory();
    const w = world(endpoint, []);
    await deliverMessage(deliveryMessageFactory(envelopeFactory(), endpoint), 1, w.ports, {
      ...config,
      policy: PRODUCTION_POLICY,
    });
    expect(w.requests).toHaveLength(0);
    expect(w.deadLetters[0]?.deadLetter).toMatchObject({ code: 'url_refused' });
    expect(w.deadLetters[0]?.deadLetter.reason).toMatch(/scheme http is not allowed/);
  });

  it('retries an audit write that fails for a moment, and reports the delivery', async () => {
    const endpoint = endpointFactory();
    const w = world(endpoint, [response(200)]);
    const recorded: DeliveryAttempt[] = [];
    let failuresLeft = 2;
    w.ports.recordAttempt = async (_tenantId, _eventId, attempt) => {
      if (failuresLeft-- > 0) throw new Error('audit down');
      recorded.push(attempt);
    };
    const decision = await deliverMessage(
      deliveryMessageFactory(envelopeFactory(), endpoint),
      1,
      w.ports,
      config,
    );
    expect(decision).toMatchObject({ kind: 'done', outcome: 'delivered' });
    expect(recorded).toHaveLength(1);
    expect(w.requests).toHaveLength(1);
  });

  it('fails the message when the audit write keeps failing, so the attempt is made and recorded again', async () => {
    const endpoint = endpointFactory();
    const w = world(endpoint, [response(200)]);
    let tries = 0;
    w.ports.recordAttempt = async () => {
      tries += 1;
      throw new Error('audit down');
    };
    await expect(
      deliverMessage(deliveryMessageFactory(envelopeFactory(), endpoint), 1, w.ports, config),
    ).rejects.toBeInstanceOf(AttemptNotAuditedError);
    expect(tries).toBe(AUDIT_WRITE_TRIES);
  });
});
