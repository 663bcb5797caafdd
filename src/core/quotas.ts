/**
 * Per-connection quotas: how many channels one connection may be subscribed to at once. A
 * subscription costs a connections-table item and one index entry fan-out reads for every event,
 * so one client must not be able to subscribe to an unbounded number of channels. Pure.
 */

/** Channels one connection may hold at once (`quotas.subscriptionsPerConnection` in the stack config). */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/** Highest value the stack config accepts. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION_LIMIT = 10_000;

export const QUOTA_ENV = { subscriptionsPerConnection: 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION' } as const;

export interface ConnectionQuotas {
  readonly maxSubscriptionsPerConnection: number;
}

export const DEFAULT_QUOTAS: ConnectionQuotas = {
  maxSubscriptionsPerConnection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
};

/** Quotas from the handler's environment; a value that is not a whole number ≥ 1 throws (a typo must not lift the limit). */
export function quotasFromEnv(env: Readonly<Record<string, string | undefined>>): ConnectionQuotas {
  const raw = env[QUOTA_ENV.subscriptionsPerConnection]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_QUOTAS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${QUOTA_ENV.subscriptionsPerConnection} must be a whole number ≥ 1, got "${raw}"`);
  }
  return { maxSubscriptionsPerConnection: value };
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
