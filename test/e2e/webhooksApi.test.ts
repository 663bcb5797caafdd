// e2e-target: offline-only — needs receivers on 127.0.0.1, which a deployed stack refuses by its production address policy
/**
 * The tenant webhook API end to end on the offline runtime (routes under /webhooks, the same
 * handler as on API Gateway), authenticated with the WebSocket's JWTs; plus fair delivery: a
 * healthy endpoint beside a hanging and a slow one. Receivers are local and verify signatures
 * with the `standardwebhooks` library.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getAuditRepository } from '../../src/aws/auditRepository.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { topology } from '../../src/contract/topology.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { TEST_EVENT_TYPE, WEBHOOK_OPERATION_NOTE } from '../../src/core/webhookAdmin.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { type ReceivedRequest, startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function verified(secret: string, request: ReceivedRequest): { id: string; type: string } {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
  const payload = new Webhook(secret).verify(request.body, headers) as { id: string; type: string };
  return payload;
}

interface EndpointBody {
  id: string;
  url: string;
  enabled: boolean;
  rateLimitPerSecond?: number;
  secrets: { secret: string; expiresAt?: string }[];
}

describe('tenant webhook API on the offline runtime', () => {
  let runtime: Runtime;
  const receivers: TestReceiver[] = [];
  let tokenA: string;
  let tokenB: string;

  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  };

  async function api(token: string | undefined, method: string, path: string, body?: unknown) {
    const response = await fetch(`${runtime.endpoints.webhooksApi ?? ''}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        // The offline runtime's server takes JSON bodies only (its cross-site guard), even empty ones.
        ...(body !== undefined || method === 'POST' || method === 'PATCH'
          ? { 'content-type': 'application/json' }
          : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function publish(tenantId: string, count: number, type = 'order.created'): Promise<string[]> {
    const tableName = runtime.env[topology.tables.outbox.env] ?? '';
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const event = newOutboxEvent({
        tenantId,
        channel: 'orders',
        type,
        resourceId: `o-${i}`,
        data: { n: i },
      });
      await appendToOutbox(getDocumentClient(), event, { tableName });
      ids.push(event.eventId);
    }
    return ids;
  }

  async function notes(tenantId: string) {
    return (await getAuditRepository().listTenantNotes(tenantId)).filter(
      (n) => n.code === WEBHOOK_OPERATION_NOTE,
    );
  }

  beforeAll(async () => {
    runtime = await startRuntime({
      quiet: true,
      // No WebSocket clients here: fan-out is not part of what these tests count.
      disabledMappings: ['fanout'],
      env: {
        WEBHOOK_RETRY_SCHEDULE: '0,1,1',
        // The fairness test's slow receiver answers after 1.2 s: count that as slow here.
        WEBHOOK_SLOW_AFTER_MS: '1000',
        WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '1',
      },
    });
    const secret = secretKey(runtime.env.JWT_SECRET ?? '');
    tokenA = await mintConnectionToken({ tenantId: 'api-tenant-a', subject: 'alice' }, secret);
    tokenB = await mintConnectionToken({ tenantId: 'api-tenant-b', subject: 'bob' }, secret);
  });

  afterAll(async () => {
    for (const r of receivers) await r.close();
    await runtime?.stop();
  });

  it('manages an endpoint: create, list, get, update, disable, enable, rotate secret, delete — each audited with who', async () => {
    const target = await receiver();
    const created = await api(tokenA, 'POST', '/webhooks/endpoints', {
      url: target.url,
      eventTypes: ['order.*'],
      rateLimitPerSecond: 5,
    });
    expect(created.status).toBe(201);
    const endpoint = created.body.endpoint as EndpointBody;
    expect(endpoint.secrets[0]?.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}/);
    expect(endpoint.rateLimitPerSecond).toBe(5);

    const listed = await api(tokenA, 'GET', '/webhooks/endpoints');
    const ids = (listed.body.endpoints as EndpointBody[]).map((e) => e.id);
    expect(ids).toContain(endpoint.id);
    // Secrets are masked everywhere but on creation and rotation.
    expect(JSON.stringify(listed.body)).not.toContain(endpoint.secrets[0]?.secret);

    const got = await api(tokenA, 'GET', `/webhooks/endpoints/${endpoint.id}`);
    expect((got.body.endpoint as EndpointBody).url).toBe(target.url);

    const refused = await api(tokenA, 'PATCH', `/webhooks/endpoints/${endpoint.id}`, { timeoutSeconds: 99 });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: 'INVALID_SETTING', field: 'timeoutSeconds' },
    });
    const unknownField = await api(tokenA, 'PATCH', `/webhooks/endpoints/${endpoint.id}`, { secret: 'x' });
    expect(unknownField).toMatchObject({ status: 400, body: { error: 'INVALID_REQUEST' } });

    const updated = await api(tokenA, 'PATCH', `/webhooks/endpoints/${endpoint.id}`, {
      rateLimitPerSecond: null,
      description: 'orders',
    });
    expect(updated.status).toBe(200);
    expect((updated.body.endpoint as EndpointBody).rateLimitPerSecond).toBeUndefined();

    const disabled = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/disable`, {
      reason: 'maintenance',
    });
    expect((disabled.body.endpoint as EndpointBody).enabled).toBe(false);
    const enabled = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/enable`);
    expect((enabled.body.endpoint as EndpointBody).enabled).toBe(true);

    const rotated = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/rotate-secret`, {
      graceSeconds: 60,
    });
    const secrets = (rotated.body.endpoint as EndpointBody).secrets;
    expect(secrets).toHaveLength(2);
    expect(secrets[1]?.secret).toBe(endpoint.secrets[0]?.secret);
    expect(secrets[1]?.expiresAt).toBeDefined();

    expect((await api(tokenA, 'DELETE', `/webhooks/endpoints/${endpoint.id}`)).status).toBe(200);
    expect((await api(tokenA, 'GET', `/webhooks/endpoints/${endpoint.id}`)).status).toBe(404);

    const done = (await notes('api-tenant-a')).filter((n) => n.details?.endpointId === endpoint.id);
    expect(done.map((n) => n.details?.operation).sort()).toEqual(
      [
        'endpoint.create',
        'endpoint.update',
        'endpoint.disable',
        'endpoint.enable',
        'endpoint.rotate_secret',
        'endpoint.delete',
      ].sort(),
    );
    expect(done.every((n) => n.details?.actor === 'alice' && n.details?.via === 'api')).toBe(true);
  });

  it('sends a test event signed like any other, and shows its attempt with the receiver’s answer', async () => {
    const target = await receiver(() => ({ status: 200, body: `{"ok":true,"pad":"${'y'.repeat(2000)}"}` }));
    const created = await api(tokenA, 'POST', '/webhooks/endpoints', { url: target.url });
    const endpoint = created.body.endpoint as EndpointBody;
    const sent = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/test`);
    expect(sent.status).toBe(202);
    const eventId = sent.body.eventId as string;

    await until(() => target.requests.length >= 1, 'the test event');
    const payload = verified(endpoint.secrets[0]?.secret ?? '', target.requests[0] as ReceivedRequest);
    expect(payload).toMatchObject({ id: eventId, type: TEST_EVENT_TYPE });

    let attempts: {
      outcome: string;
      statusCode?: number;
      responseBody?: string;
      responseBodyTruncated?: boolean;
    }[] = [];
    await until(async () => {
      const shown = await api(tokenA, 'GET', `/webhooks/events/${eventId}/attempts`);
      attempts = (shown.body.attempts as typeof attempts | undefined) ?? [];
      return attempts.length > 0;
    }, 'the audited attempt');
    expect(attempts[0]).toMatchObject({ outcome: 'delivered', statusCode: 200, responseBodyTruncated: true });
    expect(Buffer.byteLength(attempts[0]?.responseBody ?? '')).toBeLessThanOrEqual(1024);
    expect(attempts[0]?.responseBody?.startsWith('{"ok":true')).toBe(true);

    const byEndpoint = await api(tokenA, 'GET', `/webhooks/endpoints/${endpoint.id}/attempts`);
    expect(byEndpoint.body.attempts).toEqual([expect.objectContaining({ eventId, outcome: 'delivered' })]);
  });

  it('recovers exactly the events an endpoint missed since a time, resends one, and lists the tenant’s event types', async () => {
    const target = await receiver();
    const created = await api(tokenA, 'POST', '/webhooks/endpoints', { url: target.url });
    const endpoint = created.body.endpoint as EndpointBody;
    const since = new Date(Date.now() - 1000).toISOString();
    const before = await publish('api-tenant-a', 3, 'invoice.paid');
    await until(() => target.requests.length >= 3, 'the first three events');
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/disable`);
    const missed = await publish('api-tenant-a', 4, 'invoice.paid');
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/enable`);
    const after = await publish('api-tenant-a', 2, 'invoice.voided');
    await until(() => target.requests.length >= 5, 'the events after enabling');
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const receivedBefore = target.requests.map((r) => String(r.headers['webhook-id']));
    expect(new Set(receivedBefore)).toEqual(new Set([...before, ...after]));

    const recovered = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/recover`, { since });
    expect(recovered.status).toBe(202);
    expect(new Set(recovered.body.eventIds as string[])).toEqual(new Set(missed));
    await until(() => target.requests.length >= 9, 'the recovered events');
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    const received = target.requests.map((r) => verified(endpoint.secrets[0]?.secret ?? '', r).id);
    expect(received).toHaveLength(9);
    expect(new Set(received)).toEqual(new Set([...before, ...missed, ...after]));

    // Nothing is missing any more: a second recover sends nothing.
    const again = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/recover`, { since });
    expect(again.body).toMatchObject({ enqueued: 0 });

    const resent = await api(tokenA, 'POST', `/webhooks/endpoints/${endpoint.id}/resend`, {
      eventId: before[0],
    });
    expect(resent.status).toBe(202);
    await until(() => target.requests.length >= 10, 'the resent event');
    expect(target.requests[9]?.headers['webhook-id']).toBe(before[0]);

    const types = await api(tokenA, 'GET', '/webhooks/event-types');
    const names = (types.body.eventTypes as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['invoice.paid', 'invoice.voided']));
    const notesNow = (await notes('api-tenant-a')).filter((n) => n.details?.endpointId === endpoint.id);
    expect(notesNow.map((n) => n.details?.operation)).toEqual(
      expect.arrayContaining(['endpoint.recover', 'endpoint.resend']),
    );
  });

  it('refuses another tenant’s token on every route, and a missing token everywhere', async () => {
    const target = await receiver();
    const endpoint = (await api(tokenA, 'POST', '/webhooks/endpoints', { url: target.url })).body
      .endpoint as EndpointBody;
    const [eventId] = await publish('api-tenant-a', 1, 'secret.thing');
    await until(() => target.requests.length >= 1, 'tenant A’s event');
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const routes: [string, string, unknown?][] = [
      ['GET', `/webhooks/endpoints/${endpoint.id}`],
      ['PATCH', `/webhooks/endpoints/${endpoint.id}`, { description: 'mine now' }],
      ['DELETE', `/webhooks/endpoints/${endpoint.id}`],
      ['POST', `/webhooks/endpoints/${endpoint.id}/disable`, {}],
      ['POST', `/webhooks/endpoints/${endpoint.id}/enable`, {}],
      ['POST', `/webhooks/endpoints/${endpoint.id}/rotate-secret`, {}],
      ['GET', `/webhooks/endpoints/${endpoint.id}/attempts`],
      ['POST', `/webhooks/endpoints/${endpoint.id}/recover`, { since: new Date(0).toISOString() }],
      ['POST', `/webhooks/endpoints/${endpoint.id}/resend`, { eventId }],
      ['POST', `/webhooks/endpoints/${endpoint.id}/test`, {}],
      ['GET', `/webhooks/events/${eventId}/attempts`],
    ];
    for (const [method, path, body] of routes) {
      const answer = await api(tokenB, method, path, body);
      expect({ method, path, status: answer.status, error: answer.body.error }).toEqual({
        method,
        path,
        status: 404,
        error: 'NOT_FOUND',
      });
    }
    // Tenant B's own views do not show tenant A's endpoints or event types.
    expect((await api(tokenB, 'GET', '/webhooks/endpoints')).body.endpoints).toEqual([]);
    expect((await api(tokenB, 'GET', '/webhooks/event-types')).body.eventTypes).toEqual([]);
    // Tenant B's resend of tenant A's event to B's own endpoint is refused too.
    const own = (await api(tokenB, 'POST', '/webhooks/endpoints', { url: target.url })).body
      .endpoint as EndpointBody;
    expect((await api(tokenB, 'POST', `/webhooks/endpoints/${own.id}/resend`, { eventId })).status).toBe(404);

    for (const [method, path, body] of [
      ...routes,
      ['GET', '/webhooks/endpoints'],
      ['POST', '/webhooks/endpoints', { url: target.url }],
      ['GET', '/webhooks/event-types'],
    ] as [string, string, unknown?][]) {
      expect((await api(undefined, method, path, body)).status).toBe(401);
      expect((await api('not.a.jwt', method, path, body)).status).toBe(401);
    }
    // Nothing changed for tenant A, and only tenant A's event reached the receiver.
    expect((await api(tokenA, 'GET', `/webhooks/endpoints/${endpoint.id}`)).body.endpoint).toMatchObject({
      enabled: true,
      secrets: [expect.anything()],
    });
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(target.requests.map((r) => r.headers['webhook-id'])).toEqual([eventId]);
  });

  it('keeps a healthy endpoint’s deliveries flowing beside a hanging and a slow endpoint, losing nothing', async () => {
    // The breaker off (it is on by default), so every hanging delivery is attempted, not deferred for long.
    process.env.WEBHOOK_CIRCUIT_FAILURES = '0';
    const healthy = await receiver();
    const hanging = await receiver(() => 'hang');
    // Answers 204 after 1.2 s: slow (WEBHOOK_SLOW_AFTER_MS=1000 here), but healthy.
    const slow = await receiver(() => ({ status: 204, delayMs: 1200 }));
    const count = 30;
    const tenant = 'api-tenant-fair';
    const token = await mintConnectionToken(
      { tenantId: tenant, subject: 'ops' },
      secretKey(runtime.env.JWT_SECRET ?? ''),
    );
    const add = async (body: Record<string, unknown>) =>
      ((await api(token, 'POST', '/webhooks/endpoints', body)).body.endpoint as EndpointBody).id;
    const hangingId = await add({ url: hanging.url, timeoutSeconds: 1, maxAttempts: 1 });
    await add({ url: slow.url, timeoutSeconds: 10, maxAttempts: 3 });
    await add({ url: healthy.url });
    const ids = await publish(tenant, count);

    await until(() => healthy.requests.length >= count, 'every event at the healthy endpoint', 180_000);
    // When the healthy endpoint has everything, the other two are far from done: each gets one
    // request at a time, so they did not hold the healthy endpoint's deliveries back.
    expect(slow.requests.length).toBeLessThan(count);
    expect(hanging.requests.length).toBeLessThan(count);

    // Nothing lost: the slow endpoint gets every event, the hanging one has every delivery
    // attempted once and dead-lettered (maxAttempts 1); deferrals were never attempts.
    await until(
      () => new Set(slow.requests.map((r) => r.headers['webhook-id'])).size >= count,
      'the slow endpoint',
      240_000,
    );
    await until(
      async () => {
        const shown = await api(token, 'GET', `/webhooks/endpoints/${hangingId}/attempts?limit=1000`);
        const attempts = (shown.body.attempts as { eventId: string; outcome: string }[] | undefined) ?? [];
        return (
          new Set(attempts.filter((a) => a.outcome === 'dead-lettered').map((a) => a.eventId)).size >= count
        );
      },
      'every hanging delivery given up',
      240_000,
    );
    await runtime.waitForIdle({ timeoutMs: 120_000 });
    expect(new Set(healthy.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
    expect(healthy.requests).toHaveLength(count);
    const attempts = (await api(token, 'GET', `/webhooks/endpoints/${hangingId}/attempts?limit=1000`)).body
      .attempts as { eventId: string; attempt: number }[];
    // Exactly one attempt per event: a deferral is not an attempt.
    expect(attempts.map((a) => a.attempt)).toEqual(new Array(count).fill(1));
    expect(new Set(attempts.map((a) => a.eventId))).toEqual(new Set(ids));
    delete process.env.WEBHOOK_CIRCUIT_FAILURES;
  });
});
