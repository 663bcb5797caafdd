/**
 * A fan-out chunk: one subscription shard's share of a wide fan-out. When a batch's events have
 * more subscribers than the chunk threshold, the invocation that received them delivers to one
 * shard itself and puts one chunk per other shard on the fan-out queue, so that separate
 * invocations post to the shards in parallel (design: 100,000 connections on one channel as 8
 * chunks of ~12,500). A connection's shard is a hash of its id, the same for every channel, so
 * a chunk plans exactly the frames that connection would have got from the whole fan-out.
 */
import * as z from 'zod/mini';
import { type Envelope, envelopeSchema } from './envelope.js';
import { SQS_MAX_MESSAGE_BYTES } from './limits.js';
import { SUBSCRIPTION_SHARDS } from './subscriptions.js';

export const FANOUT_CHUNK_KIND = 'outbox-relay.fanout-chunk';

export const fanoutChunkSchema = z.object({
  kind: z.literal(FANOUT_CHUNK_KIND),
  shard: z.number().check(z.int(), z.gte(0), z.lte(SUBSCRIPTION_SHARDS - 1)),
  events: z.array(envelopeSchema).check(z.minLength(1)),
});
export type FanoutChunk = z.infer<typeof fanoutChunkSchema>;

/** Room for the JSON around the envelopes within SQS's message size. */
export const FANOUT_CHUNK_BUDGET_BYTES = Math.floor(SQS_MAX_MESSAGE_BYTES * 0.8);

/**
 * The chunks for these shards, the events split (in order) so each chunk fits an SQS message;
 * undefined when one event alone is too large for a chunk (the caller then fans out unchunked).
 */
export function planChunks(
  events: readonly Envelope[],
  shards: readonly number[],
  budgetBytes = FANOUT_CHUNK_BUDGET_BYTES,
): FanoutChunk[] | undefined {
  const groups: Envelope[][] = [];
  let group: Envelope[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event));
    if (size > budgetBytes) return undefined;
    if (group.length > 0 && bytes + size > budgetBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(event);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return shards.flatMap((shard) =>
    groups.map((groupEvents) => ({ kind: FANOUT_CHUNK_KIND, shard, events: groupEvents })),
  );
}
