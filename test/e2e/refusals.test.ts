// e2e-target: offline-only — provokes each refusal through the offline runtime's local endpoints
/**
 * Every refusal a user can meet (docs/refusals.md), one test per row, against the offline runtime
 * where the refusal happens there and against the refusing module where it happens before any I/O.
 */
import { createServer, type Server } from 'node:http';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import { createQuarantineRepository } from '../../src/aws/quarantineRepository.js';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { DEV_POLICY, PRODUCTION_POLICY } from '../../src/core/addressPolicy.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import { WebhookConfigurationError } from '../../src/core/webhookErrors.js';
import {
  appendToOutbox,
  InvalidOutboxRowError,
  OutboxEventTooLargeError,
  validateOutboxRow,
} from '../../src/producer/index.js';
import { documentClient, tableName, useRuntime, waitFor } from './helpers/index.js';
import { connectClient, type TestClient } from './websocketTestClient.js';

const ALLOWED_ORIGIN = 'https://app.example.com';
const local = useRuntime({
  env: { OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true', WEBSOCKET_ALLOWED_ORIGINS: ALLOWED_ORIGIN },
});

const row = (eventId: string, extra: Record<string, unknown> = {}) => ({
  eventId,
  tenantId: 'acme',
  channel: 'orders',
  type: 'order.created',
  resourceId: 'order-1',
  data: { total: 1 },
  occurredAt: new Date().toISOString(),
  ...extra,
});

async function token(tenantId: string, channels?: string[], expiresInSeconds?: number): Promise<string> {
  return mintConnectionToken(
    {
      tenantId,
      subject: 'refusals',
      ...(channels ? { channels } : {}),
      ...(expiresInSeconds ? { expiresInSeconds } : {}),
    },
    secretKey(local.runtime.env.JWT_SECRET ?? ''),
  );
}

async function quarantinedReason(eventId: string): Promise<string | undefined> {
  const repo = createQuarantineRepository({
    client: documentClient(local.runtime),
    tableName: tableName(local.runtime, 'quarantine'),
  });
  const { items } = await repo.list({ limit: 1000 });
  return items.find((item) => item.eventId === eventId)?.reason;
}

async function rawOutboxPut(item: Record<string, unknown>): Promise<void> {
  await documentClient(local.runtime).send(
    new PutCommand({
      TableName: tableName(local.runtime, 'outbox'),
      Item: { expiresAt: 4_000_000_000, ...item },
    }),
  );
}

async function errorFrameFor(client: TestClient, message: unknown): Promise<unknown> {
  const from = client.frames.length;
  client.send(message);
  return client.waitFor((frame) => frame.type === 'error' || frame.type === 'refresh', 30_000, from);
}

describe('refusals: outbox rows', () => {
  it('malformed row: the producer refuses it naming each field; written raw, it is quarantined as INVALID_ROW', async () => {
    expect(() => validateOutboxRow(row('r1', { type: '', occurredAt: 'yesterday' }))).toThrow(
      InvalidOutboxRowError,
    );
    expect(() => validateOutboxRow(row('r1', { type: '' }))).toThrow(/type/);
    await rawOutboxPut({
      pk: 'acme#orders',
      sk: 'refusal-malformed',
      ...row('refusal-malformed', { data: 'not an object' }),
    });
    await waitFor(() => quarantinedReason('refusal-malformed'), {
      description: 'the malformed row in quarantine',
    });
    expect(await quarantinedReason('refusal-malformed')).toMatch(/INVALID_ROW|BAD_JSON/);
  });

  it('oversized row: the producer refuses an event the bus could never carry', () => {
    const big = row('r2', { data: { blob: 'x'.repeat(1024 * 1024 + 1) } });
    expect(() => validateOutboxRow(big)).toThrow(OutboxEventTooLargeError);
  });

  it('missing tenant: the producer refuses it; written raw, it is quarantined as MISSING_TENANT', async () => {
    expect(() => validateOutboxRow(row('r3', { tenantId: '' }))).toThrow(/tenantId/);
    await rawOutboxPut({
      pk: '#orders',
      sk: 'refusal-no-tenant',
      ...row('refusal-no-tenant', { tenantId: '' }),
    });
    await waitFor(() => quarantinedReason('refusal-no-tenant'), {
      description: 'the tenant-less row in quarantine',
    });
    expect(await quarantinedReason('refusal-no-tenant')).toBe('MISSING_TENANT');
  });
});

describe('refusals: WebSocket connections and frames', () => {
  it('bad, expired or foreign-signed token: the upgrade is refused with HTTP 401', async () => {
    const url = local.runtime.endpoints.webSocket;
    await expect(connectClient(url, undefined)).rejects.toThrow('HTTP 401');
    await expect(connectClient(url, 'not-a-jwt')).rejects.toThrow('HTTP 401');
    await expect(connectClient(url, await token('acme', undefined, -60))).rejects.toThrow('HTTP 401');
    const foreign = await mintConnectionToken(
      { tenantId: 'acme', subject: 's' },
      secretKey('another-secret'),
    );
    await expect(connectClient(url, foreign)).rejects.toThrow('HTTP 401');
  });

  it('a browser page from an origin outside allowedOrigins: the upgrade is refused with HTTP 403', async () => {
    const url = local.runtime.endpoints.webSocket;
    const valid = await token('acme');
    const before = new Set(local.runtime.gateway.connectionIds());
    await expect(connectClient(url, valid, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(
      connectClient(url, valid, { origin: 'https://app.example.com.evil.example' }),
    ).rejects.toThrow('HTTP 403');
    // A refused upgrade leaves no connection behind.
    expect(local.runtime.gateway.connectionIds().filter((id) => !before.has(id))).toEqual([]);
    const listed = await connectClient(url, valid, { origin: ALLOWED_ORIGIN });
    const noOrigin = await connectClient(url, valid);
    listed.ws.close();
    noOrigin.ws.close();
  });

  it('other tenant: a token of tenant B never receives tenant A’s events on the same channel name', async () => {
    const other = await connectClient(local.runtime.endpoints.webSocket, await token('globex'));
    const own = await connectClient(local.runtime.endpoints.webSocket, await token('acme'));
    try {
      for (const client of [other, own]) {
        client.send({ action: 'subscribe', channels: ['orders'] });
        await client.waitFor((frame) => frame.type === 'subscribed');
      }
      await appendToOutbox(documentClient(local.runtime), row('refusal-tenant-a'), {
        tableName: tableName(local.runtime, 'outbox'),
      });
      await waitFor(() => own.events().some((e) => e.id === 'refusal-tenant-a'), {
        description: 'the own-tenant delivery',
      });
      await local.runtime.waitForIdle({ timeoutMs: 60_000 });
      expect(other.events().map((e) => e.id)).not.toContain('refusal-tenant-a');
    } finally {
      await other.close();
      await own.close();
    }
  });

  it('forbidden channel, malformed frame, oversized frame, unknown action: an error frame with its code', async () => {
    const client = await connectClient(local.runtime.endpoints.webSocket, await token('acme', ['orders']));
    try {
      expect(await errorFrameFor(client, { action: 'subscribe', channels: ['billing'] })).toMatchObject({
        code: 'FORBIDDEN_CHANNEL',
      });
      expect(await errorFrameFor(client, '{"action":')).toMatchObject({ code: 'BAD_JSON' });
      expect(await errorFrameFor(client, { action: 'subscribe', channels: 'orders' })).toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      expect(await errorFrameFor(client, { action: 'ping', id: 'x'.repeat(40 * 1024) })).toMatchObject({
        code: 'FRAME_TOO_LARGE',
      });
      expect(await errorFrameFor(client, { action: 'teleport' })).toMatchObject({ code: 'UNKNOWN_ACTION' });
      // Above API Gateway's 128 KB message limit the gateway closes the socket with 1009.
      client.send('x'.repeat(129 * 1024));
      expect(await client.closed).toBe(1009);
    } finally {
      await client.close();
    }
  });

  it('a receipt with more than 100 ids: INVALID_MESSAGE; unknown or foreign ids: ignored without a reply', async () => {
    const client = await connectClient(local.runtime.endpoints.webSocket, await token('acme', ['orders']));
    try {
      const ids = Array.from({ length: 101 }, (_, i) => `ack-${i}`);
      expect(await errorFrameFor(client, { action: 'ack', ids })).toMatchObject({
        code: 'INVALID_MESSAGE',
        action: 'ack',
      });
      const from = client.frames.length;
      client.send({ action: 'ack', ids: ['no-such-event', 'another-tenants-event'] });
      client.send({ action: 'ping', id: 'after-ack' });
      // The ping's answer is the next frame: the ignored receipt said nothing.
      await client.waitFor((frame) => frame.type === 'pong', 30_000, from);
      expect(client.frames.slice(from)).toEqual([{ type: 'pong', id: 'after-ack' }]);
    } finally {
      await client.close();
    }
  });

  it('replay of an unknown id: resume answers refresh (unknown_since), never a guess', async () => {
    const client = await connectClient(local.runtime.endpoints.webSocket, await token('acme'));
    try {
      client.send({ action: 'subscribe', channels: ['orders'] });
      await client.waitFor((frame) => frame.type === 'subscribed');
      expect(
        await errorFrameFor(client, {
          action: 'resume',
          channels: [{ channel: 'orders', since: 'no-such-event' }],
        }),
      ).toMatchObject({
        type: 'refresh',
        channel: 'orders',
        reason: 'unknown_since',
      });
    } finally {
      await client.close();
    }
  });

  it('fetch without a subscription, or of a range too wide; resume in another epoch: an error or a refresh', async () => {
    const client = await connectClient(local.runtime.endpoints.webSocket, await token('acme'));
    try {
      expect(
        await errorFrameFor(client, { action: 'fetch', channel: 'orders', fromSeq: 1, toSeq: 2 }),
      ).toMatchObject({
        code: 'NOT_SUBSCRIBED',
        action: 'fetch',
      });
      expect(
        await errorFrameFor(client, { action: 'fetch', channel: 'orders', fromSeq: 5, toSeq: 2 }),
      ).toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      expect(
        await errorFrameFor(client, { action: 'fetch', channel: 'orders', fromSeq: 1, toSeq: 1_000_000 }),
      ).toMatchObject({ code: 'INVALID_MESSAGE', action: 'fetch' });
      expect(
        await errorFrameFor(client, {
          action: 'resume',
          channels: [{ channel: 'orders', afterSeq: 3, epoch: 'an-epoch-this-channel-never-had' }],
        }),
      ).toMatchObject({
        type: 'refresh',
        channel: 'orders',
        reason: 'epoch_changed',
        head: { seq: expect.any(Number) },
      });
    } finally {
      await client.close();
    }
  });
});

describe('refusals: webhooks', () => {
  const context = { tenantId: 'acme', now: new Date(), policy: PRODUCTION_POLICY, defaultMaxAttempts: 8 };
  const refusedField = (url: string): string | undefined => {
    try {
      createEndpoint({ url }, context);
      return undefined;
    } catch (error) {
      return error instanceof WebhookConfigurationError ? error.field : `unexpected ${String(error)}`;
    }
  };

  it('URL of a private, loopback, link-local or metadata address, in any encoding: refused when configured', () => {
    const refused = [
      'https://10.0.0.1/hook',
      'https://192.168.1.10/hook',
      'https://172.16.0.1/hook',
      'https://127.0.0.1/hook',
      'https://127.1/hook',
      'https://2130706433/hook',
      'https://0x7f000001/hook',
      'https://0177.0.0.1/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[::ffff:7f00:1]/hook',
      'https://[::127.0.0.1]/hook',
      'https://[::ffff:0:10.0.0.1]/hook',
      'https://[64:ff9b::169.254.169.254]/hook',
      'https://hooks.example.com:8443/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/hook',
      'https://[fe80::1]/hook',
      'https://0.0.0.0/hook',
      'http://example.com/hook',
      'https://user:pass@example.com/hook',
    ];
    for (const url of refused) expect(refusedField(url), url).toBe('url');
    expect(refusedField('https://hooks.example.com/outbox')).toBeUndefined();
    // A public name that resolves to such an address is refused at connect time (after DNS,
    // before the socket opens): test/unit/ssrfConnectTime.test.ts.
  });

  it('redirect to such an address: never followed; the 3xx is a failed attempt in the audit', async () => {
    let metadataHits = 0;
    const metadata: Server = createServer((_req, res) => {
      metadataHits += 1;
      res.end();
    });
    const redirector: Server = createServer((req, res) => {
      req.resume();
      const address = metadata.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      res.writeHead(302, { location: `http://127.0.0.1:${port}/latest/meta-data/` });
      res.end();
    });
    await Promise.all(
      [metadata, redirector].map((s) => new Promise<void>((done) => s.listen(0, '127.0.0.1', done))),
    );
    try {
      const address = redirector.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const endpoint = createEndpoint(
        { url: `http://127.0.0.1:${port}/hook`, maxAttempts: 1, timeoutSeconds: 5 },
        { tenantId: 'redirects', now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: 1 },
      );
      const db = documentClient(local.runtime);
      await createWebhookEndpointsRepository({
        client: db,
        tableName: tableName(local.runtime, 'webhookEndpoints'),
      }).create(endpoint);
      await appendToOutbox(db, row('refusal-redirect', { tenantId: 'redirects' }), {
        tableName: tableName(local.runtime, 'outbox'),
      });
      await local.runtime.waitForIdle({ timeoutMs: 60_000 });
      const audit = createAuditRepository({ client: db, tableName: tableName(local.runtime, 'audit') });
      const { attempts } = await audit.getEventWithAttempts('redirects', 'refusal-redirect');
      const webhook = attempts.filter((a) => a.path === 'webhook');
      expect(webhook).toHaveLength(1);
      expect(webhook[0]).toMatchObject({ statusCode: 302, outcome: 'dead-lettered' });
      expect(metadataHits).toBe(0);
    } finally {
      await Promise.all(
        [metadata, redirector].map((s) => new Promise<void>((done) => s.close(() => done()))),
      );
    }
  });

  it('bad webhook configuration: refused naming the setting', () => {
    const field = (input: Record<string, unknown>) => {
      try {
        createEndpoint({ url: 'https://hooks.example.com/x', ...input }, context);
        return undefined;
      } catch (error) {
        return error instanceof WebhookConfigurationError ? error.field : String(error);
      }
    };
    expect(field({ timeoutSeconds: 999 })).toBe('timeoutSeconds');
    expect(field({ maxAttempts: 0 })).toBe('maxAttempts');
    expect(field({ content: 'everything' })).toBe('content');
    expect(field({ url: 'not a url' })).toBe('url');
  });
});

describe('refusals: tokens, quotas and the local server', () => {
  it('a token without exp, living longer than the maximum, not valid yet or with malformed claims: HTTP 401', async () => {
    const url = local.runtime.endpoints.webSocket;
    const key = secretKey(local.runtime.env.JWT_SECRET ?? '');
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ tenant: 'acme', sub: 's', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(key);
    await expect(connectClient(url, await sign({ iat: now }))).rejects.toThrow('HTTP 401');
    await expect(connectClient(url, await sign({ iat: now, exp: now + 2 * 86_400 }))).rejects.toThrow(
      'HTTP 401',
    );
    await expect(connectClient(url, await sign({ nbf: now + 600, exp: now + 900 }))).rejects.toThrow(
      'HTTP 401',
    );
    await expect(connectClient(url, await sign({ exp: 'later' }))).rejects.toThrow('HTTP 401');
  });

  it('more subscriptions than the quota (100): TOO_MANY_SUBSCRIPTIONS, the connection kept', async () => {
    const client = await connectClient(local.runtime.endpoints.webSocket, await token('acme'));
    try {
      client.send({ action: 'subscribe', channels: Array.from({ length: 100 }, (_, i) => `q${i}`) });
      await client.waitFor((f) => f.type === 'subscribed');
      expect(await errorFrameFor(client, { action: 'subscribe', channels: ['one-too-many'] })).toMatchObject({
        type: 'error',
        code: 'TOO_MANY_SUBSCRIPTIONS',
      });
      const from = client.frames.length;
      client.send({ action: 'ping', id: 'open' });
      await client.waitFor((f) => f.type === 'pong', 30_000, from);
    } finally {
      await client.close();
    }
  });

  it('the console and /control/**: non-JSON body 415, foreign Origin 403, wrong method 405', async () => {
    const base = local.runtime.endpoints.console;
    const form = await fetch(new URL('/console/api/events', base), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(form.status).toBe(415);
    const origin = await fetch(new URL('/control/bus/archive', base), {
      headers: { origin: 'https://evil.example' },
    });
    expect(origin.status).toBe(403);
    const method = await fetch(new URL('/control/faults', base), { method: 'DELETE' });
    expect(method.status).toBe(405);
    // A foreign Host (DNS rebinding) and the file mode of endpoints.json: test/unit/localServerGuard.test.ts.
  });
});
