/**
 * Subscription keys on the connections table's `bySubscription` index. A busy channel's
 * subscriptions are spread over SUBSCRIPTION_SHARDS index partitions (`SUB#<tenant>#<channel>#<shard>`,
 * shard = hash of the connection id) so fan-out reads them with parallel queries and no single
 * index partition carries a 100,000-subscriber channel alone.
 */
import { hash } from 'node:crypto';
import { encodeKey } from './keyCodec.js';

/**
 * Number of index partitions per channel. Changing it orphans existing subscriptions (they are
 * looked up under the old shard), so it is a constant, not a setting: connections live at most 2 h,
 * so a change is safe after draining connections.
 */
export const SUBSCRIPTION_SHARDS = 8;

export function shardOf(connectionId: string, shards = SUBSCRIPTION_SHARDS): number {
  // One-shot hash (no Hash object): a wide fan-out computes this per subscriber.
  const digest = hash('sha1', connectionId, 'buffer');
  return digest.readUInt32BE(0) % shards;
}

/** In-memory grouping key of a tenant's channel (never stored; injective like every key). */
export function channelKey(tenantId: string, channel: string): string {
  return encodeKey([tenantId, channel]);
}

/** `SUB#<tenant>#<channel>#<shard>`, through the key codec (src/core/keyCodec.ts). */
export function subscriptionKey(tenantId: string, channel: string, shard: number): string {
  return encodeKey(['SUB', tenantId, channel, shard]);
}

export function subscriptionKeysOf(
  tenantId: string,
  channel: string,
  shards = SUBSCRIPTION_SHARDS,
): string[] {
  return Array.from({ length: shards }, (_, shard) => subscriptionKey(tenantId, channel, shard));
}

/**
 * Index key listing a tenant's connections (for `send-close`), sharded the same way:
 * `CONN#<tenant>#<shard>`. The tag differs from `SUB`, so no tenant or channel name can make a
 * subscription key equal to a tenant's connection list key.
 */
export function tenantConnectionsKey(tenantId: string, shard: number): string {
  return encodeKey(['CONN', tenantId, shard]);
}
