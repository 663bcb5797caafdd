/** Wide fan-outs split into subscription-shard chunks: planning, parsing, and delivery end to end in memory. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/core/envelope.js';
import { FANOUT_CHUNK_KIND, type FanoutChunk, planChunks } from '../../src/core/fanoutChunk.js';
import { type FanoutPorts, type FanoutSettings, fanOut } from '../../src/core/fanoutDelivery.js';
import { parseFanoutMessage } from '../../src/core/fanoutMessages.js';
import { fanoutSettingsFromEnv } from '../../src/core/fanoutSettings.js';
import { SUBSCRIPTION_SHARDS, shardOf } from '../../src/core/subscriptions.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const settings: FanoutSettings = {
  coalesce: true,
  maxEventsPerFrame: 50,
  maxMessageBytes: 128 * 1024,
  concurrency: 8,
  retryDelaysMs: [0],
  chunkThreshold: 10,
};

/** A channel's subscribers held in memory, answering per shard as the repository does. */
function world(subscriberIds: readonly string[]) {
  const posted = new Map<string, string[]>();
  const chunks: FanoutChunk[] = [];
  const ports: FanoutPorts = {
    findSubscribers: async (_tenantId, _channel, shard) =>
      shard === undefined ? subscriberIds : subscriberIds.filter((id) => shardOf(id) === shard),
    post: async (connectionId, body) => {
      posted.set(connectionId, [...(posted.get(connectionId) ?? []), body]);
    },
    deleteConnection: async () => {},
    enqueueRetry: async () => {},
    enqueueChunk: async (chunk) => {
      // What the queue does to it: JSON there and back.
      const parsed = parseFanoutMessage(JSON.stringify(chunk));
      if (parsed.kind !== 'chunk') throw new Error(`chunk did not survive the queue: ${parsed.kind}`);
      chunks.push(parsed.chunk);
    },
    sleep: async () => {},
  };
  return { ports, posted, chunks };
}

const eventIdsIn = (bodies: readonly string[]): string[] =>
  bodies.flatMap((body) => {
    const frame = JSON.parse(body) as { type: string; events?: Envelope[]; event?: Envelope };
    return frame.events ? frame.events.map((e) => e.id) : frame.event ? [frame.event.id] : [];
  });

describe('planChunks', () => {
  it('makes one chunk per shard, splitting the events in order by the size budget', () => {
    const events = Array.from({ length: 5 }, () => envelopeFactory({ data: { text: 'x'.repeat(300) } }));
    const size = Buffer.byteLength(JSON.stringify(events[0]));
    const chunks = planChunks(events, [2, 5], size * 2 + 10);
    expect(chunks?.map((c) => [c.shard, c.events.map((e) => e.id)])).toEqual([
      [2, [events[0]?.id, events[1]?.id]],
      [2, [events[2]?.id, events[3]?.id]],
      [2, [events[4]?.id]],
      [5, [events[0]?.id, events[1]?.id]],
      [5, [events[2]?.id, events[3]?.id]],
      [5, [events[4]?.id]],
    ]);
  });

  it('gives up (undefined) when one event alone exceeds the budget: that batch is fanned out whole', () => {
    const events = [envelopeFactory(), envelopeFactory({ data: { text: 'x'.repeat(5_000) } })];
    expect(planChunks(events, [1], 1_000)).toBeUndefined();
  });
});

describe('chunked fan-out', () => {
  const subscribers = Array.from({ length: 60 }, (_, i) => `conn-${i}=`);
  const shards = [...new Set(subscribers.map((id) => shardOf(id)))].sort((a, b) => a - b);

  it('delivers one shard inline and enqueues one chunk per other shard; every subscriber gets every event once', async () => {
    expect(shards.length).toBeGreaterThan(2);
    const events = [envelopeFactory(), envelopeFactory(), envelopeFactory()];
    const w = world(subscribers);

    const first = await fanOut(events, w.ports, settings);
    expect(first.chunksEnqueued).toBe(shards.length - 1);
    expect(w.chunks.map((c) => c.shard)).toEqual(shards.slice(1));
    expect([...w.posted.keys()].every((id) => shardOf(id) === shards[0])).toBe(true);
    expect(first.summaries.every((s) => s.shard === shards[0])).toBe(true);

    // Other invocations take the chunks off the queue.
    const perShard = [first];
    for (const chunk of w.chunks)
      perShard.push(await fanOut(chunk.events, w.ports, settings, { shard: chunk.shard }));

    for (const id of subscribers)
      expect(eventIdsIn(w.posted.get(id) ?? []), id).toEqual(events.map((e) => e.id));
    // The shard summaries of each event add up to its subscribers, and no chunk splits again.
    for (const event of events) {
      const summaries = perShard.flatMap((r) => r.summaries.filter((s) => s.eventId === event.id));
      expect(summaries.reduce((sum, s) => sum + s.subscribers, 0)).toBe(subscribers.length);
      expect(summaries.reduce((sum, s) => sum + s.delivered, 0)).toBe(subscribers.length);
    }
    expect(perShard.slice(1).every((r) => r.chunksEnqueued === 0)).toBe(true);
  });

  it('does not split at or below the threshold, or without a way to enqueue chunks', async () => {
    const events = [envelopeFactory()];
    const small = world(subscribers.slice(0, 10));
    expect((await fanOut(events, small.ports, settings)).chunksEnqueued).toBe(0);
    expect(small.posted.size).toBe(10);

    const noQueue = world(subscribers);
    const { enqueueChunk: _ignored, ...ports } = noQueue.ports;
    const result = await fanOut(events, ports, settings);
    expect(result.chunksEnqueued).toBe(0);
    expect(noQueue.posted.size).toBe(subscribers.length);
  });

  it('posts nothing when a chunk cannot be enqueued, so retrying the batch sends nobody anything twice inline', async () => {
    const w = world(subscribers);
    const failing: FanoutPorts = {
      ...w.ports,
      enqueueChunk: async () => {
        throw new Error('queue unavailable');
      },
    };
    await expect(fanOut([envelopeFactory()], failing, settings)).rejects.toThrow('queue unavailable');
    expect(w.posted.size).toBe(0);
  });
});

describe('chunk messages and settings', () => {
  it('quarantines a malformed chunk with its own reason', () => {
    expect(
      parseFanoutMessage(JSON.stringify({ kind: FANOUT_CHUNK_KIND, shard: SUBSCRIPTION_SHARDS, events: [] })),
    ).toMatchObject({
      kind: 'poison',
      reason: 'invalid_fanout_chunk',
    });
  });

  it('reads FANOUT_CHUNK_THRESHOLD, 2,000 by default', () => {
    expect(fanoutSettingsFromEnv({}).chunkThreshold).toBe(2_000);
    expect(fanoutSettingsFromEnv({ FANOUT_CHUNK_THRESHOLD: '50' }).chunkThreshold).toBe(50);
    expect(() => fanoutSettingsFromEnv({ FANOUT_CHUNK_THRESHOLD: '0' })).toThrow('FANOUT_CHUNK_THRESHOLD');
  });
});

describe('shardOf', () => {
  it('is the first four bytes of the UTF-8 id’s SHA-1, as stored subscriptions were sharded', () => {
    // Pinned: a different shard would orphan the subscriptions already stored under the old one.
    expect(['abc=', 'Zx9_-Q', 'ünï\u0000✓', '\ud800'].map((id) => shardOf(id))).toEqual([5, 5, 6, 7]);
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.integer({ min: 1, max: 64 }),
        (id, shards) => {
          const expected = createHash('sha1').update(id).digest().readUInt32BE(0) % shards;
          expect(shardOf(id, shards)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
