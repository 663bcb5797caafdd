/**
 * Per-connection quotas: how many channels one connection may be subscribed to at once. A
 * subscription costs a connections-table item and one index entry fan-out reads for every event,
 * so one client must not be able to subscribe to an unbounded number of channels. Pure.
 */
import { type Env, readWholeNumber } from './envSettings.js';

/** Channels one connection may hold at once (`quotas.subscriptionsPerConnection` in the stack config). */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/** Highest value the stack config accepts. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION_LIMIT = 10_000;

export const QUOTA_ENV = {
  subscriptionsPerConnection: 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION',
  connectionsPerTenant: 'WS_MAX_CONNECTIONS_PER_TENANT',
} as const;

/** Off by default: how many connections a tenant needs is the application's business. */
export const DEFAULT_MAX_CONNECTIONS_PER_TENANT = 0;

export interface ConnectionQuotas {
  readonly maxSubscriptionsPerConnection: number;
  /** Open connections one tenant may have; 0 = no limit. */
  readonly maxConnectionsPerTenant?: number;
}

export const DEFAULT_QUOTAS: ConnectionQuotas = {
  maxSubscriptionsPerConnection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  maxConnectionsPerTenant: DEFAULT_MAX_CONNECTIONS_PER_TENANT,
};

/** Quotas from the handler's environment; a value that is not a whole number throws (a typo must not lift the limit). */
export function quotasFromEnv(env: Env): ConnectionQuotas {
  return {
    maxSubscriptionsPerConnection: readWholeNumber(env, QUOTA_ENV.subscriptionsPerConnection, {
      fallback: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      min: 1,
    }),
    maxConnectionsPerTenant: readWholeNumber(env, QUOTA_ENV.connectionsPerTenant, {
      fallback: DEFAULT_MAX_CONNECTIONS_PER_TENANT,
      min: 0,
    }),
  };
}

/** Whether one more connection would exceed the tenant's quota (0 = no limit). */
export function tenantConnectionQuotaReached(openConnections: number, quotas: ConnectionQuotas): boolean {
  const max = quotas.maxConnectionsPerTenant ?? 0;
  return max > 0 && openConnections >= max;
}

/**
 * Splits requested channels into those that fit under the quota and those refused. Channels the
 * connection already holds are always accepted (subscribing again is a no-op and costs nothing);
 * new ones are accepted in request order while room remains.
 */
export function splitBySubscriptionQuota(
  held: readonly string[],
  requested: readonly string[],
  max: number,
): { accepted: string[]; refused: string[] } {
  const heldSet = new Set(held);
  let room = Math.max(0, max - heldSet.size);
  const accepted: string[] = [];
  const refused: string[] = [];
  for (const channel of requested) {
    if (heldSet.has(channel)) accepted.push(channel);
    else if (room > 0) {
      accepted.push(channel);
      room -= 1;
    } else refused.push(channel);
  }
  return { accepted, refused };
}
