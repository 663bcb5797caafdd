// e2e-target: offline-only — lowers the fan-out chunk threshold of the in-process handlers
/**
 * A wide fan-out split into subscription-shard chunks on the offline runtime: with the chunk
 * threshold lowered to 5, 24 subscribers of one channel are served by one invocation per shard,
 * every subscriber gets every event exactly once, numbered in the order written, and the audit holds one summary
 * per event and shard whose sums are the channel's subscribers.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getDocumentClient } from '../../src/aws/clients.js';
import { topology } from '../../src/contract/topology.js';
import { auditAttemptItemSchema, auditEventPk } from '../../src/core/auditRecord.js';
import { keyPrefix } from '../../src/core/keyCodec.js';
import { shardOf } from '../../src/core/subscriptions.js';
import { mintConnectionToken, secretKey } from '../../src/core/token.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { connectClient, type TestClient, until } from './websocketTestClient.js';

const TENANT = 'chunk-t';
const CHANNEL = 'wide';
const SUBSCRIBERS = 24;
const EVENTS = 40;

describe('fan-out split into shard chunks', () => {
  let runtime: Runtime;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({ quiet: true, env: { FANOUT_CHUNK_THRESHOLD: '5' } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await runtime?.stop();
  });

  it('delivers every event once, in sequence order, to every subscriber, one audited chunk per shard', async () => {
    const secret = secretKey(runtime.env.JWT_SECRET ?? '');
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const client = await connectClient(
        runtime.endpoints.webSocket,
        await mintConnectionToken({ tenantId: TENANT, subject: `s${i}` }, secret),
      );
      client.send({ action: 'subscribe', channels: [CHANNEL] });
      await client.waitFor((f) => f.type === 'subscribed');
      clients.push(client);
    }
    const shards = new Set(runtime.gateway.connectionIds().map((id) => shardOf(id)));
    expect(shards.size).toBeGreaterThan(1);

    const written: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const event = newOutboxEvent({ tenantId: TENANT, channel: CHANNEL, type: 'tick', data: { i } });
      await appendToOutbox(getDocumentClient(), event, {
        tableName: runtime.env[topology.tables.outbox.env] ?? '',
      });
      written.push(event.eventId);
    }
    await until(
      () => clients.every((c) => c.events().length >= written.length),
      'every subscriber to receive every event',
      120_000,
    );
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    for (const client of clients) {
      const received = client.events();
      // Concurrent fan-out invocations (chunks, and batches as in AWS) do not keep arrival order;
      // the channel's sequence numbers do: every event once, numbered 1..N in the order written.
      expect(received.map((e) => e.id).sort()).toEqual([...written].sort());
      const bySeq = [...received].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      expect(bySeq.map((e) => e.id)).toEqual(written);
      expect(bySeq.map((e) => e.seq)).toEqual(written.map((_, i) => i + 1));
    }

    for (const eventId of [written[0], written.at(-1)]) {
      const page = await getDocumentClient().send(
        new QueryCommand({
          TableName: runtime.env[topology.tables.audit.env],
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': auditEventPk(TENANT, eventId ?? ''),
            ':prefix': keyPrefix(['ATTEMPT', 'websocket']),
          },
        }),
      );
      const summaries = (page.Items ?? []).map((item) => auditAttemptItemSchema.parse(item));
      expect(summaries.map((s) => s.target).sort()).toEqual(
        [...shards].sort((a, b) => a - b).map((shard) => `fanout/shard-${shard}`),
      );
      expect(summaries.reduce((sum, s) => sum + (s.fanout?.subscribers ?? 0), 0)).toBe(SUBSCRIBERS);
      expect(summaries.reduce((sum, s) => sum + (s.fanout?.delivered ?? 0), 0)).toBe(SUBSCRIBERS);
    }
  }, 240_000);
});
