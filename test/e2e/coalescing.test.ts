// e2e-target: offline-only — makes connections vanish and oversizes events through the local gateway
/**
 * Coalesced fan-out on the offline runtime: with coalescing on, every subscriber gets
 * every event exactly once by id, numbered in the channel's order, in fewer messages than events, none over
 * 128 KB; an event too large for a message arrives as `refresh`; a connection that vanished is
 * pruned on its first 410 while the others keep receiving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { getConnectionsRepository } from '../../src/aws/connectionsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { connectClient, fanoutSummaryOf, type TestClient, until } from './websocketTestClient.js';

const TENANT = 'coalesce-t';
const CHANNEL = 'ticks';
const SUBSCRIBERS = 10;
const EVENTS = 300;

describe('coalesced WebSocket fan-out', () => {
  let runtime: Runtime;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({
      quiet: true,
      env: { FANOUT_COALESCE: 'true', FANOUT_MAX_EVENTS_PER_FRAME: '50' },
      // A short batching window, as a deployed mapping fills batches under load.
      batchingWindowMs: { fanout: 250 },
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await runtime?.stop();
  });

  it('delivers every event once, in order, coalesced, with refresh for a large one and pruning of a gone one', async () => {
    const secret = secretKey(runtime.env.JWT_SECRET ?? '');
    const outboxTable = runtime.env[topology.tables.outbox.env] ?? '';
    for (let i = 0; i <= SUBSCRIBERS; i++) {
      const client = await connectClient(
        runtime.endpoints.webSocket,
        await mintConnectionToken({ tenantId: TENANT, subject: `s${i}`, channels: [CHANNEL] }, secret),
      );
      client.send({ action: 'subscribe', channels: [CHANNEL] });
      await client.waitFor((f) => f.type === 'subscribed');
      clients.push(client);
    }
    // The last client vanishes without $disconnect.
    const ghostId = runtime.gateway.connectionIds().at(-1);
    if (!ghostId) throw new Error('no connection');
    runtime.gateway.dropConnection(ghostId);
    await until(
      () => clients.filter((c) => c.ws.readyState === c.ws.OPEN).length === SUBSCRIBERS,
      'the drop',
    );
    const liveClients = clients.filter((c) => c.ws.readyState === c.ws.OPEN);
    runtime.gateway.resetStats();

    const documentClient = getDocumentClient();
    const written: string[] = [];
    let largeId = '';
    for (let i = 0; i < EVENTS; i++) {
      const large = i === EVENTS / 2;
      const event = newOutboxEvent({
        tenantId: TENANT,
        channel: CHANNEL,
        type: large ? 'tick.large' : 'tick',
        data: large ? { blob: 'L'.repeat(150 * 1024) } : { i, pad: 'p'.repeat(200) },
      });
      await appendToOutbox(documentClient, event, { tableName: outboxTable });
      if (large) largeId = event.eventId;
      else written.push(event.eventId);
    }

    await until(
      () => liveClients.every((c) => new Set(c.events().map((e) => e.id)).size >= written.length),
      'every subscriber to receive every event',
      150_000,
    );
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    for (const client of liveClients) {
      const ids = client.events().map((e) => e.id);
      expect(ids).toHaveLength(written.length); // exactly once
      expect(new Set(ids).size).toBe(written.length);
      // In the channel's order by sequence number: concurrent fan-out batches (as in AWS) do not
      // keep arrival order across messages, and a client orders by `seq`.
      const bySeq = [...client.events()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      expect(bySeq.map((e) => e.id)).toEqual(written);
      expect(Math.max(...client.messageSizes)).toBeLessThanOrEqual(128 * 1024);
      expect(client.frames).toContainEqual({
        type: 'refresh',
        channel: CHANNEL,
        reason: 'payload_too_large',
        eventId: largeId,
      });
    }

    const stats = runtime.gateway.stats();
    const perEventPerSubscriber = stats.messages / (EVENTS * SUBSCRIBERS);
    expect(perEventPerSubscriber).toBeLessThan(0.5); // coalescing happened
    expect(await getConnectionsRepository().getConnection(ghostId)).toBeUndefined();
    expect(await fanoutSummaryOf(TENANT, largeId)).toMatchObject({
      subscribers: expect.any(Number),
      refreshed: SUBSCRIBERS,
      delivered: 0,
    });
    // Fan-out batches run concurrently (as in AWS), so the event that meets the vanished connection
    // first is not necessarily the first one written: every event reached all live subscribers, and
    // the ones fanned out before the pruning counted the ghost as gone, once each.
    const summaries = await Promise.all(written.map((id) => fanoutSummaryOf(TENANT, id)));
    for (const summary of summaries) {
      expect(summary).toMatchObject({ delivered: SUBSCRIBERS });
      expect(summary?.gone ?? 0).toBeLessThanOrEqual(1);
    }
    expect(summaries).toContainEqual(
      expect.objectContaining({ subscribers: SUBSCRIBERS + 1, delivered: SUBSCRIBERS, gone: 1 }),
    );
  }, 300_000);
});
