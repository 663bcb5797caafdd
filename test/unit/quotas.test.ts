import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClientMessagePorts, handleClientMessage } from '../../src/core/clientMessages.js';
import { type ServerFrame, serverFrameSchema } from '../../src/core/protocol.js';
import {
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  QUOTA_ENV,
  quotasFromEnv,
  splitBySubscriptionQuota,
  tenantConnectionQuotaReached,
} from '../../src/core/quotas.js';
import { DEFAULT_RESUME_SETTINGS } from '../../src/core/resume.js';

function fakeConnection() {
  const held = new Set<string>();
  const ports: ClientMessagePorts = {
    subscribe: async (_id, _who, channels) => {
      for (const c of channels) held.add(c);
    },
    unsubscribe: async (_id, _who, channels) => {
      for (const c of channels) held.delete(c);
    },
    subscriptionsOf: async () => [...held],
    isSubscribed: async (_id, channel) => held.has(channel),
    currentEpoch: async () => 'ep',
    querySeq: async () => ({ items: [], more: false }),
    getEvent: async () => undefined,
    queryChannel: async () => ({ events: [] }),
  };
  return { ports, held };
}

const ctx = { connectionId: 'c1', identity: { tenantId: 't1', subject: 's', allowedChannels: undefined } };

async function send(ports: ClientMessagePorts, body: unknown, max: number): Promise<ServerFrame[]> {
  const out = await handleClientMessage(JSON.stringify(body), ctx, ports, DEFAULT_RESUME_SETTINGS, {
    maxSubscriptionsPerConnection: max,
  });
  return out.map((text) => serverFrameSchema.parse(JSON.parse(text)));
}

const channels = (from: number, count: number) => Array.from({ length: count }, (_, i) => `ch-${from + i}`);

describe('subscriptions per connection', () => {
  it('defaults to 100', () => {
    expect(DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION).toBe(100);
    expect(quotasFromEnv({}).maxSubscriptionsPerConnection).toBe(100);
    expect(quotasFromEnv({ [QUOTA_ENV.subscriptionsPerConnection]: '5' }).maxSubscriptionsPerConnection).toBe(
      5,
    );
    expect(() => quotasFromEnv({ [QUOTA_ENV.subscriptionsPerConnection]: 'lots' })).toThrow(RangeError);
  });

  it('connections per tenant: off by default, refused at the limit when set', () => {
    expect(quotasFromEnv({}).maxConnectionsPerTenant).toBe(0);
    expect(tenantConnectionQuotaReached(1_000_000, quotasFromEnv({}))).toBe(false);
    const quotas = quotasFromEnv({ [QUOTA_ENV.connectionsPerTenant]: '2' });
    expect(tenantConnectionQuotaReached(1, quotas)).toBe(false);
    expect(tenantConnectionQuotaReached(2, quotas)).toBe(true);
    expect(() => quotasFromEnv({ [QUOTA_ENV.connectionsPerTenant]: '-1' })).toThrow(RangeError);
  });

  it('subscribes up to the quota and refuses the rest with TOO_MANY_SUBSCRIPTIONS; the connection stays usable', async () => {
    const { ports, held } = fakeConnection();
    expect(await send(ports, { action: 'subscribe', channels: channels(0, 3) }, 4)).toMatchObject([
      { type: 'subscribed', channels: channels(0, 3) },
    ]);
    const frames = await send(ports, { action: 'subscribe', channels: channels(3, 3) }, 4);
    expect(frames[0]).toMatchObject({ type: 'subscribed', channels: ['ch-3'] });
    expect(frames[1]).toMatchObject({ type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS', action: 'subscribe' });
    expect(frames[1]?.type === 'error' && frames[1].message).toMatch(/at most 4 .*ch-4, ch-5/);
    expect(held.size).toBe(4);
    // Still answered: ping, and a re-subscribe of held channels costs nothing.
    expect(await send(ports, { action: 'ping' }, 4)).toEqual([{ type: 'pong' }]);
    expect(await send(ports, { action: 'subscribe', channels: ['ch-0'] }, 4)).toMatchObject([
      { type: 'subscribed', channels: ['ch-0'] },
    ]);
    // Unsubscribing frees room.
    await send(ports, { action: 'unsubscribe', channels: ['ch-0'] }, 4);
    expect(await send(ports, { action: 'subscribe', channels: ['ch-9'] }, 4)).toMatchObject([
      { type: 'subscribed', channels: ['ch-9'] },
    ]);
  });

  it('applies to resume, which subscribes too', async () => {
    const { ports, held } = fakeConnection();
    await send(ports, { action: 'subscribe', channels: channels(0, 2) }, 2);
    const frames = await send(ports, { action: 'resume', channels: [{ channel: 'ch-7' }] }, 2);
    expect(frames).toEqual([
      expect.objectContaining({ type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS', action: 'resume' }),
    ]);
    expect(held.has('ch-7')).toBe(false);
  });

  it('never lets a connection hold more than the quota (property)', () => {
    const names = fc.array(fc.string({ maxLength: 3 }), { maxLength: 30 });
    fc.assert(
      fc.property(names, names, fc.integer({ min: 1, max: 20 }), (heldList, requested, max) => {
        const held = [...new Set(heldList)].slice(0, max);
        const unique = [...new Set(requested)];
        const { accepted, refused } = splitBySubscriptionQuota(held, unique, max);
        const after = new Set([...held, ...accepted]);
        return (
          after.size <= max &&
          accepted.length + refused.length === unique.length &&
          refused.every((c) => !held.includes(c)) &&
          // Refusing only happens when the connection is full.
          (refused.length === 0 || after.size === max)
        );
      }),
      { numRuns: 10_000 },
    );
  });
});
