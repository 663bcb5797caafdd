// e2e-target: offline-only — makes connections vanish through the local gateway's @connections
/**
 * WebSocket delivery on the offline runtime: tenant isolation under load (3 tenants × 20 clients,
 * 1,000 outbox rows), resume after a drop, pruning of vanished connections on the first 410, and
 * every documented refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { mapWithConcurrency } from '../../src/core/concurrency.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { connectClient, fanoutSummaryOf, type TestClient, until } from './websocketTestClient.js';

const TENANTS = ['ws-t1', 'ws-t2', 'ws-t3'];
const CHANNELS = ['orders', 'billing', 'chat'];

describe('WebSocket delivery on the offline runtime', () => {
  let runtime: Runtime;
  let secret: Uint8Array;
  let outboxTable: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({ quiet: true });
    secret = secretKey(runtime.env.JWT_SECRET ?? '');
    outboxTable = runtime.env[topology.tables.outbox.env] ?? '';
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await runtime?.stop();
  });

  const token = (tenantId: string, subject: string, channels?: string[]) =>
    mintConnectionToken({ tenantId, subject, ...(channels ? { channels } : {}) }, secret);

  async function open(tenantId: string, subject: string, channels?: string[]): Promise<TestClient> {
    const client = await connectClient(runtime.endpoints.webSocket, await token(tenantId, subject, channels));
    clients.push(client);
    return client;
  }

  async function subscribe(client: TestClient, channels: string[]): Promise<void> {
    const from = client.frames.length;
    client.send({ action: 'subscribe', channels });
    await client.waitFor((f) => f.type === 'subscribed', 30_000, from);
  }

  async function write(tenantId: string, channel: string, count: number, data: Record<string, unknown> = {}) {
    const client = getDocumentClient();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const event = newOutboxEvent({ tenantId, channel, type: 'test.event', data: { i, ...data } });
      await appendToOutbox(client, event, { tableName: outboxTable });
      ids.push(event.eventId);
    }
    return ids;
  }

  it('delivers to every client exactly its tenant’s subscribed channels (3 tenants × 20 clients, 1,000 rows)', async () => {
    const plan: { client: TestClient; tenantId: string; channels: string[] }[] = [];
    for (const tenantId of TENANTS) {
      for (let i = 0; i < 20; i++) {
        const channels = [CHANNELS[i % 3], ...(i % 2 === 0 ? [CHANNELS[(i + 1) % 3]] : [])].filter(
          (c): c is string => c !== undefined,
        );
        const client = await open(tenantId, `user-${i}`);
        plan.push({ client, tenantId, channels });
      }
    }
    await mapWithConcurrency(plan, 10, ({ client, channels }) => subscribe(client, channels));

    const documentClient = getDocumentClient();
    const rows = Array.from({ length: 1000 }, (_, i) =>
      newOutboxEvent({
        tenantId: TENANTS[i % 3] ?? 'x',
        channel: CHANNELS[Math.floor(i / 3) % 3] ?? 'x',
        type: 'load.event',
        data: { i },
      }),
    );
    await mapWithConcurrency(rows, 16, (row) =>
      appendToOutbox(documentClient, row, { tableName: outboxTable }),
    );

    const expected = plan.map(
      ({ tenantId, channels }) =>
        new Set(
          rows.filter((r) => r.tenantId === tenantId && channels.includes(r.channel)).map((r) => r.eventId),
        ),
    );
    await until(
      () =>
        plan.every(
          ({ client }, index) =>
            new Set(client.events().map((e) => e.id)).size >= (expected[index]?.size ?? 0),
        ),
      'every client to receive its events',
      240_000,
    );
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    plan.forEach(({ client, tenantId, channels }, index) => {
      const received = client.events();
      expect(received.every((e) => e.tenantId === tenantId)).toBe(true);
      expect(received.every((e) => channels.includes(e.channel))).toBe(true);
      expect(new Set(received.map((e) => e.id))).toEqual(expected[index]);
    });
    const total = plan.reduce((sum, { client }) => sum + client.events().length, 0);
    const expectedTotal = expected.reduce((sum, set) => sum + set.size, 0);
    expect(total).toBe(expectedTotal); // exactly once: no duplicates either
    await Promise.all(plan.map(({ client }) => client.close()));
  }, 300_000);

  it('a client that missed 50 events resumes and receives all 50 in order, then live ones', async () => {
    const tenantId = 'ws-resume';
    const first = await open(tenantId, 'agent');
    await subscribe(first, ['orders']);
    const seen = await write(tenantId, 'orders', 5);
    await until(() => first.events().length >= 5, 'the first 5 events');
    const lastSeen = first.events().at(-1);
    expect(lastSeen?.id).toBe(seen.at(-1));
    await first.close();

    const missed = await write(tenantId, 'orders', 50);
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    const second = await open(tenantId, 'agent');
    second.send({ action: 'resume', channels: [{ channel: 'orders', since: lastSeen?.id }] });
    await second.waitFor((f) => f.type === 'resumed');
    const live = await write(tenantId, 'orders', 5);
    await until(() => second.events().some((e) => e.id === live.at(-1)), 'the live events');

    const resumedIndex = second.frames.findIndex((f) => f.type === 'resumed');
    const replayed = second.frames
      .slice(0, resumedIndex)
      .flatMap((f) => (f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : []))
      .filter((e) => !seen.includes(e.id)); // the overlap window may repeat seen events; clients drop them by id
    expect(replayed.map((e) => e.id)).toEqual(missed);
    const after = second.frames
      .slice(resumedIndex + 1)
      .flatMap((f) => (f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : []));
    expect(after.map((e) => e.id)).toEqual(live);
  });

  it('removes a connection that vanished without $disconnect on the first 410', async () => {
    const tenantId = 'ws-gone';
    const before = new Set(runtime.gateway.connectionIds());
    const vanishing = await open(tenantId, 'ghost');
    const staying = await open(tenantId, 'stays');
    await subscribe(vanishing, ['orders']);
    await subscribe(staying, ['orders']);
    const ghostId = runtime.gateway
      .connectionIds()
      .find((id) => !before.has(id) && runtime.gateway.connectionIds().length > 0);
    if (!ghostId) throw new Error('no connection id');
    // Find which new id belongs to which client: drop one and see which socket closes.
    runtime.gateway.dropConnection(ghostId);
    const repository = getConnectionsRepository();
    expect(await repository.getConnection(ghostId)).toBeDefined();

    const [eventId] = await write(tenantId, 'orders', 1);
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(await repository.getConnection(ghostId)).toBeUndefined();
    expect(await repository.findSubscribers(tenantId, 'orders')).toHaveLength(1);
    const summary = await fanoutSummaryOf(tenantId, eventId ?? '');
    expect(summary).toMatchObject({ subscribers: 2, delivered: 1, gone: 1 });
    const survivor = [vanishing, staying].find((c) => c.events().some((e) => e.id === eventId));
    expect(survivor).toBeDefined();
  });

  it('refuses bad tokens at the upgrade and answers bad messages with the documented error frames', async () => {
    const url = runtime.endpoints.webSocket;
    await expect(connectClient(url, undefined)).rejects.toThrow('HTTP 401');
    await expect(connectClient(url, 'garbage')).rejects.toThrow('HTTP 401');
    await expect(
      connectClient(
        url,
        await mintConnectionToken({ tenantId: 't', subject: 's', expiresInSeconds: -120 }, secret),
      ),
    ).rejects.toThrow('HTTP 401');
    await expect(
      connectClient(
        url,
        await mintConnectionToken({ tenantId: 't', subject: 's' }, secretKey('not-the-secret')),
      ),
    ).rejects.toThrow('HTTP 401');

    const client = await open('ws-refusals', 'user', ['orders']);
    const expectError = async (message: unknown, code: string) => {
      const from = client.frames.length;
      client.send(message);
      const frame = await client.waitFor((f) => f.type === 'error', 30_000, from);
      expect(frame).toMatchObject({ type: 'error', code });
      return frame;
    };
    await expectError({ action: 'subscribe', channels: ['secret'] }, 'FORBIDDEN_CHANNEL');
    await expectError('{"action": "subscribe", ', 'BAD_JSON');
    const unknown = await expectError({ action: 'dance' }, 'UNKNOWN_ACTION');
    expect(unknown.type === 'error' && unknown.message).toContain('subscribe, unsubscribe, resume, ping');
    await expectError({ action: 'subscribe', channels: 'orders' }, 'INVALID_MESSAGE');
    await expectError({ action: 'ping', id: 'x'.repeat(40 * 1024) }, 'FRAME_TOO_LARGE');
    const from = client.frames.length;
    client.send({ action: 'ping', id: 'still-alive' });
    expect(await client.waitFor((f) => f.type === 'pong', 30_000, from)).toEqual({
      type: 'pong',
      id: 'still-alive',
    });
    // Above API Gateway's 128 KB the gateway itself closes the socket (1009).
    client.send('x'.repeat(129 * 1024));
    expect(await client.closed).toBe(1009);
  });
});
