// e2e-target: offline-only — probes the offline runtime's local servers, dev token secret and gateway
/**
 * The edges of the offline runtime a hostile client or a web page can reach: token rules on
 * `$connect` (through the real gateway and authorizer), secret rotation, the subscription quota,
 * the console/control server's refusals, and what listens on which interface.
 */
import { lookup } from 'node:dns/promises';
import { connect as tcpConnect } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuditRepository } from '../../src/aws/auditRepository.js';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { PRODUCTION_POLICY } from '../../src/core/addressPolicy.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import { deadLetterSchema } from '../../src/core/webhookMessages.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { documentClient, sqsClient, tableName, useRuntime, waitFor } from './helpers/index.js';
import { connectClient } from './websocketTestClient.js';

const PREVIOUS_SECRET = 'the-secret-before-the-rotation-0123456789';
const local = useRuntime({
  env: {
    JWT_SECRET_PREVIOUS: PREVIOUS_SECRET,
    WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
    WS_MAX_CONNECTIONS_PER_TENANT: '2',
    // Webhook delivery in production mode: only public addresses.
    OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'false',
  },
});

// A name that is not `localhost` yet resolves to loopback, without any network: this machine's
// own name, on hosts whose /etc/hosts maps it to 127.0.x.x (most Linux installs).
const ownName = hostname();
const ownAddress = await lookup(ownName).then(
  (found) => found.address,
  () => undefined,
);
const ownNameIsLoopback = ownAddress !== undefined && (ownAddress.startsWith('127.') || ownAddress === '::1');

const now = () => Math.floor(Date.now() / 1000);
const currentSecret = () => secretKey(local.runtime.env.JWT_SECRET ?? '');

function signed(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ tenant: 'edges', sub: 'e2e', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(currentSecret());
}

describe('token rules on $connect', () => {
  it.each([
    ['without exp', () => signed({ iat: now() })],
    ['living longer than 24 h', () => signed({ iat: now(), exp: now() + 25 * 3600 })],
    ['not valid yet (future nbf)', () => signed({ iat: now(), nbf: now() + 600, exp: now() + 1200 })],
    ['with a malformed exp', () => signed({ iat: now(), exp: 'soon' })],
    ['with a malformed tenant', () => signed({ tenant: ['a'], iat: now(), exp: now() + 60 })],
  ])('a token %s is refused with HTTP 401 and leaves no connection', async (_name, make) => {
    const before = new Set(local.runtime.gateway.connectionIds());
    await expect(connectClient(local.runtime.endpoints.webSocket, await make())).rejects.toThrow('HTTP 401');
    expect(local.runtime.gateway.connectionIds().filter((id) => !before.has(id))).toEqual([]);
  });

  it('a token signed with the previous secret still connects while the previous secret is kept', async () => {
    const old = await mintConnectionToken({ tenantId: 'edges', subject: 'old' }, secretKey(PREVIOUS_SECRET));
    const fresh = await mintConnectionToken({ tenantId: 'edges', subject: 'new' }, currentSecret());
    const a = await connectClient(local.runtime.endpoints.webSocket, old);
    const b = await connectClient(local.runtime.endpoints.webSocket, fresh);
    a.send({ action: 'ping', id: 'old' });
    await a.waitFor((f) => f.type === 'pong' && f.id === 'old');
    await a.close();
    await b.close();
    const foreign = await mintConnectionToken(
      { tenantId: 'edges', subject: 'x' },
      secretKey('never-a-secret'),
    );
    await expect(connectClient(local.runtime.endpoints.webSocket, foreign)).rejects.toThrow('HTTP 401');
  });
});

describe('subscriptions per connection', () => {
  it('refuses subscriptions beyond the quota with TOO_MANY_SUBSCRIPTIONS, keeps the connection and its subscriptions', async () => {
    const token = await mintConnectionToken({ tenantId: 'quota', subject: 'q' }, currentSecret());
    const client = await connectClient(local.runtime.endpoints.webSocket, token);
    client.send({ action: 'subscribe', channels: ['c0', 'c1', 'c2', 'c3', 'c4'] });
    const subscribed = await client.waitFor((f) => f.type === 'subscribed');
    expect(subscribed).toMatchObject({ type: 'subscribed', channels: ['c0', 'c1', 'c2'] });
    const refused = await client.waitFor((f) => f.type === 'error');
    expect(refused).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', action: 'subscribe' });

    // One event per channel in; only the subscribed channels' events out, on the same connection.
    const db = documentClient(local.runtime);
    const written = [];
    for (const channel of ['c0', 'c1', 'c2', 'c3', 'c4']) {
      const event = newOutboxEvent({ tenantId: 'quota', channel, type: 'quota.test', data: { channel } });
      await appendToOutbox(db, event, { tableName: tableName(local.runtime, 'outbox') });
      written.push(event);
    }
    await local.runtime.waitForIdle({ timeoutMs: 120_000 });
    const received = [...new Set(client.events().map((e) => e.channel))].sort();
    expect(written).toHaveLength(5);
    expect(received).toEqual(['c0', 'c1', 'c2']);
    client.send({ action: 'ping', id: 'still-here' });
    await client.waitFor((f) => f.type === 'pong' && f.id === 'still-here');
    await client.close();
  });
});

describe('connections per tenant', () => {
  it('refuses the third connection of a tenant connection with HTTP 429 and accepts one again after a disconnect', async () => {
    const url = local.runtime.endpoints.webSocket;
    const token = await mintConnectionToken({ tenantId: 'crowd', subject: 'c' }, currentSecret());
    const first = await connectClient(url, token);
    const second = await connectClient(url, token);
    await expect(connectClient(url, token)).rejects.toThrow('HTTP 429');
    // Another tenant is not affected.
    const other = await connectClient(
      url,
      await mintConnectionToken({ tenantId: 'calm', subject: 'c' }, currentSecret()),
    );
    await other.close();
    // The two open connections still work.
    second.send({ action: 'ping', id: 'kept' });
    await second.waitFor((f) => f.type === 'pong' && f.id === 'kept');
    await first.close();
    // $disconnect removes the record asynchronously: wait until a connection is accepted again.
    const third = await waitFor(() => connectClient(url, token), {
      description: 'a connection accepted after a disconnect',
    });
    await third.close();
    await second.close();
  });
});

describe('the console and /control/** refuse what a web page could send', () => {
  const control = () => new URL(local.runtime.endpoints.console);

  it('serves its own JSON request', async () => {
    const response = await fetch(new URL('/console/api/token', control()), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: control().origin },
      body: JSON.stringify({ tenantId: 't1', subject: 'console' }),
    });
    expect(response.status).toBe(200);
  });

  it('refuses a form post (415), a foreign Origin (403) and a wrong method (405)', async () => {
    const form = await fetch(new URL('/console/api/token', control()), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'tenantId=t1&subject=x',
    });
    expect(form.status).toBe(415);
    const foreign = await fetch(new URL('/console/api/config', control()), {
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ error: 'FORBIDDEN_ORIGIN' });
    const method = await fetch(new URL('/control/bus/replay', control()));
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('POST');
  });

  it('refuses a foreign Host (DNS rebinding) with 403', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(Number(control().port), '127.0.0.1', () => {
        socket.end(
          'GET /console/api/config HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(answer).toMatch(/FORBIDDEN_HOST/);
  });
});

describe('what listens where', () => {
  const externalIpv4 = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry?.address ?? '');

  function connects(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = tcpConnect({ host, port, timeout: 3000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }

  it.skipIf(externalIpv4.length === 0)('SQS and the runtime servers answer on 127.0.0.1 only', async () => {
    const ports = ['sqs', 'eventBridge', 'webSocket', 'console'].map((key) =>
      Number(new URL(local.runtime.endpoints[key as 'sqs']).port),
    );
    for (const port of ports) {
      expect(await connects('127.0.0.1', port)).toBe(true);
      for (const address of externalIpv4)
        expect(await connects(address, port), `${address}:${port}`).toBe(false);
    }
  });
});

describe('a webhook address refused at connect time is final', () => {
  it.skipIf(!ownNameIsLoopback)(
    'a name resolving to loopback, in production mode: dead-lettered url_refused, audited refused, exactly one attempt',
    async () => {
      const runtime = local.runtime;
      const db = documentClient(runtime);
      const endpoint = createEndpoint(
        { url: `https://${ownName}/hook` },
        { tenantId: 'ssrf', now: new Date(), policy: PRODUCTION_POLICY, defaultMaxAttempts: 5 },
      );
      await createWebhookEndpointsRepository({
        client: db,
        tableName: tableName(runtime, 'webhookEndpoints'),
      }).create(endpoint);
      const event = newOutboxEvent({ tenantId: 'ssrf', channel: 'hooks', type: 'ssrf.test', data: {} });
      await appendToOutbox(db, event, { tableName: tableName(runtime, 'outbox') });
      await runtime.waitForIdle({ timeoutMs: 120_000 });

      const out = await sqsClient(runtime).send(
        new ReceiveMessageCommand({
          QueueUrl: runtime.env[topology.queues.webhookDlq.env],
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
        }),
      );
      const letters = (out.Messages ?? [])
        .map((m) => deadLetterSchema.parse(JSON.parse(m.Body ?? '')))
        .filter((l) => l.eventId === event.eventId);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.deadLetter).toMatchObject({ code: 'url_refused', attempts: 1 });
      expect(letters[0]?.deadLetter.reason).toMatch(new RegExp(`${ownName} resolved to ${ownAddress}`));

      const audit = createAuditRepository({ client: db, tableName: tableName(runtime, 'audit') });
      const { attempts } = await audit.getEventWithAttempts('ssrf', event.eventId);
      const webhook = attempts.filter((a) => a.path === 'webhook');
      expect(webhook).toHaveLength(1);
      expect(webhook[0]).toMatchObject({ attempt: 1, outcome: 'refused' });
    },
  );
});
