import { describe, expect, it } from 'vitest';
import { selectRoute } from '../../local/gateway/router.js';
import {
  type ClientMessagePorts,
  handleClientMessage,
  MAX_CLIENT_MESSAGE_BYTES,
} from '../../src/core/clientMessages.js';
import type { Envelope } from '../../src/core/envelope.js';
import { serverFrameSchema } from '../../src/core/protocol.js';
import { DEFAULT_RESUME_SETTINGS, type ResumeSettings } from '../../src/core/resume.js';
import type { ConnectionIdentity } from '../../src/core/token.js';
import { envelopeFactory } from '../helpers/envelopes.js';

const EPOCH = 'ep1';

function fakePorts(stored: Envelope[] = [], recordedAt = new Map<string, string>()) {
  const subscriptions = new Map<string, Set<string>>();
  const ports: ClientMessagePorts = {
    isSubscribed: async (id, channel) => subscriptions.get(id)?.has(channel) ?? false,
    currentEpoch: async () => EPOCH,
    querySeq: async (tenantId, channel, epoch, { fromSeq, toSeq, limit, ascending }) => {
      const matching = stored
        .filter(
          (e) =>
            e.tenantId === tenantId &&
            e.channel === channel &&
            e.epoch === epoch &&
            e.seq !== undefined &&
            (fromSeq === undefined || e.seq >= fromSeq) &&
            (toSeq === undefined || e.seq <= toSeq),
        )
        .sort((a, b) => ((a.seq ?? 0) - (b.seq ?? 0)) * (ascending ? 1 : -1));
      return {
        items: matching
          .slice(0, limit)
          .map((envelope) => ({ envelope, recordedAt: recordedAt.get(envelope.id) ?? envelope.time })),
        more: matching.length > limit,
      };
    },
    subscribe: async (id, _who, channels) => {
      const set = subscriptions.get(id) ?? new Set();
      for (const c of channels) set.add(c);
      subscriptions.set(id, set);
    },
    unsubscribe: async (id, _who, channels) => {
      for (const c of channels) subscriptions.get(id)?.delete(c);
    },
    subscriptionsOf: async (id) => [...(subscriptions.get(id) ?? [])],
    getEvent: async (tenantId, id) => stored.find((e) => e.tenantId === tenantId && e.id === id),
    queryChannel: async (tenantId, channel, { afterPosition, limit }) => {
      const matching = stored
        .filter(
          (e) =>
            e.tenantId === tenantId &&
            e.channel === channel &&
            (afterPosition === undefined || e.position > afterPosition),
        )
        .sort((a, b) => (a.position < b.position ? -1 : 1));
      const page = matching.slice(0, limit);
      const last = page.at(-1);
      return { events: page, ...(matching.length > limit && last ? { nextPosition: last.position } : {}) };
    },
  };
  return { ports, subscriptions };
}

const identity: ConnectionIdentity = { tenantId: 't1', subject: 's', allowedChannels: ['orders', 'billing'] };
const ctx = { connectionId: 'c1', identity };

async function frames(
  body: string | undefined,
  ports = fakePorts().ports,
  settings: ResumeSettings = DEFAULT_RESUME_SETTINGS,
) {
  const out = await handleClientMessage(body, ctx, ports, settings);
  return out.map((text) => serverFrameSchema.parse(JSON.parse(text)));
}

describe('route selection (gateway)', () => {
  it('selects the route named by action, else $default', () => {
    expect(selectRoute('{"action":"subscribe","channels":["a"]}')).toBe('subscribe');
    expect(selectRoute('{"action":"ping"}')).toBe('ping');
    expect(selectRoute('{"action":"dance"}')).toBe('$default');
    expect(selectRoute('{"action":"$connect"}')).toBe('$default');
    expect(selectRoute('not json')).toBe('$default');
    expect(selectRoute('[1,2]')).toBe('$default');
  });
});

describe('client messages', () => {
  it('answers ping with pong, echoing the id', async () => {
    expect(await frames('{"action":"ping","id":"p1"}')).toEqual([{ type: 'pong', id: 'p1' }]);
  });

  it('subscribes allowed channels and refuses forbidden ones with FORBIDDEN_CHANNEL', async () => {
    const { ports, subscriptions } = fakePorts();
    const out = await frames('{"action":"subscribe","channels":["orders","secret"]}', ports);
    expect(out[0]).toEqual({
      type: 'subscribed',
      channels: ['orders'],
      heads: [{ channel: 'orders', seq: 0, epoch: EPOCH }],
    });
    expect(out[1]).toMatchObject({ type: 'error', code: 'FORBIDDEN_CHANNEL', action: 'subscribe' });
    expect([...(subscriptions.get('c1') ?? [])]).toEqual(['orders']);
  });

  it('unsubscribes', async () => {
    const { ports, subscriptions } = fakePorts();
    await frames('{"action":"subscribe","channels":["orders"]}', ports);
    expect(await frames('{"action":"unsubscribe","channels":["orders"]}', ports)).toEqual([
      { type: 'unsubscribed', channels: ['orders'] },
    ]);
    expect(subscriptions.get('c1')?.size).toBe(0);
  });

  it('refuses malformed JSON with BAD_JSON', async () => {
    expect(await frames('{"action":')).toMatchObject([{ type: 'error', code: 'BAD_JSON' }]);
    expect(await frames(undefined)).toMatchObject([{ type: 'error', code: 'BAD_JSON' }]);
  });

  it('names the valid actions for an unknown action', async () => {
    const [frame] = await frames('{"action":"dance"}');
    expect(frame).toMatchObject({ type: 'error', code: 'UNKNOWN_ACTION', action: 'dance' });
    expect(frame?.type === 'error' && frame.message).toContain('subscribe, unsubscribe, resume, ping');
  });

  it('refuses a message with the right action but wrong fields with INVALID_MESSAGE', async () => {
    expect(await frames('{"action":"subscribe","channels":"orders"}')).toMatchObject([
      { type: 'error', code: 'INVALID_MESSAGE', action: 'subscribe' },
    ]);
  });

  it('refuses a message over the application limit with FRAME_TOO_LARGE', async () => {
    const body = JSON.stringify({ action: 'ping', id: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES) });
    expect(await frames(body)).toMatchObject([{ type: 'error', code: 'FRAME_TOO_LARGE' }]);
  });
});

describe('resume', () => {
  const base = Date.UTC(2026, 0, 1);
  const history = Array.from({ length: 60 }, (_, i) => envelopeFactory({ at: base + i * 10_000 }));
  const other = envelopeFactory({ tenantId: 't2', at: base });

  it('replays the missed events in position order, then resumed', async () => {
    const since = history[9];
    const out = await frames(
      JSON.stringify({ action: 'resume', channels: [{ channel: 'orders', since: since?.id }] }),
      fakePorts(history).ports,
    );
    expect(out[0]).toEqual({ type: 'subscribed', channels: ['orders'] });
    const replayed = out.flatMap((f) =>
      f.type === 'events' ? f.events : f.type === 'event' ? [f.event] : [],
    );
    expect(replayed.map((e) => e.id)).toEqual(history.slice(10).map((e) => e.id));
    expect(out.at(-1)).toEqual({
      type: 'resumed',
      channel: 'orders',
      replayed: 50,
      head: { seq: 0, epoch: EPOCH },
    });
    expect(
      out.filter((f) => f.type === 'events').every((f) => f.type === 'events' && f.events.length <= 50),
    ).toBe(true);
  });

  it('includes events just before since (out-of-order arrivals) within the overlap window', async () => {
    const anchor = envelopeFactory({ at: base + 1_000_000 });
    const lateArrival = envelopeFactory({ at: base + 1_000_000 - 500 });
    const old = envelopeFactory({ at: base + 1_000_000 - 60_000 });
    const after = envelopeFactory({ at: base + 1_000_000 + 10 });
    const out = await frames(
      JSON.stringify({ action: 'resume', channels: [{ channel: 'orders', since: anchor.id }] }),
      fakePorts([old, lateArrival, anchor, after]).ports,
    );
    const ids = out.flatMap((f) =>
      f.type === 'events' ? f.events.map((e) => e.id) : f.type === 'event' ? [f.event.id] : [],
    );
    expect(ids).toEqual([lateArrival.id, after.id]);
  });

  it('answers refresh (too_many_missed) above the limit', async () => {
    const out = await frames(
      JSON.stringify({ action: 'resume', channels: [{ channel: 'orders', since: history[0]?.id }] }),
      fakePorts(history).ports,
      { ...DEFAULT_RESUME_SETTINGS, maxEvents: 20 },
    );
    expect(out.at(-1)).toEqual({ type: 'refresh', channel: 'orders', reason: 'too_many_missed' });
  });

  it('answers refresh (unknown_since) for an unknown id and for another tenant’s id', async () => {
    for (const since of ['nope', other.id]) {
      const out = await frames(
        JSON.stringify({ action: 'resume', channels: [{ channel: 'orders', since }] }),
        fakePorts([...history, other]).ports,
      );
      expect(out.at(-1)).toEqual({ type: 'refresh', channel: 'orders', reason: 'unknown_since' });
    }
  });

  it('without since only subscribes and confirms', async () => {
    const out = await frames(
      '{"action":"resume","channels":[{"channel":"orders"}]}',
      fakePorts(history).ports,
    );
    expect(out).toEqual([
      { type: 'subscribed', channels: ['orders'] },
      { type: 'resumed', channel: 'orders', replayed: 0, head: { seq: 0, epoch: EPOCH } },
    ]);
  });

  it('refuses to resume a forbidden channel', async () => {
    const out = await frames(
      '{"action":"resume","channels":[{"channel":"secret","since":"x"}]}',
      fakePorts(history).ports,
    );
    expect(out).toMatchObject([{ type: 'error', code: 'FORBIDDEN_CHANNEL', action: 'resume' }]);
  });
});

describe('fetch', () => {
  const numbered = [1, 2, 3].map((seq) => envelopeFactory({ seq, epoch: EPOCH }));

  it('refuses a fetch without a subscription with NOT_SUBSCRIBED', async () => {
    const out = await frames(
      '{"action":"fetch","channel":"orders","fromSeq":1,"toSeq":3}',
      fakePorts(numbered).ports,
    );
    expect(out).toMatchObject([{ type: 'error', code: 'NOT_SUBSCRIBED', action: 'fetch' }]);
  });

  it('refuses an inverted range, or one spanning the resume limit, with INVALID_MESSAGE', async () => {
    const { ports } = fakePorts(numbered);
    await frames('{"action":"subscribe","channels":["orders"]}', ports);
    expect(await frames('{"action":"fetch","channel":"orders","fromSeq":3,"toSeq":1}', ports)).toMatchObject([
      { type: 'error', code: 'INVALID_MESSAGE' },
    ]);
    const wide = `{"action":"fetch","channel":"orders","fromSeq":1,"toSeq":${DEFAULT_RESUME_SETTINGS.maxEvents + 1}}`;
    expect(await frames(wide, ports)).toMatchObject([
      { type: 'error', code: 'INVALID_MESSAGE', action: 'fetch' },
    ]);
  });

  it('answers a subscribed connection with the range’s events, then fetched', async () => {
    const { ports } = fakePorts(numbered);
    await frames('{"action":"subscribe","channels":["orders"]}', ports);
    const out = await frames('{"action":"fetch","channel":"orders","fromSeq":2,"toSeq":3}', ports);
    expect(out.at(-1)).toEqual({ type: 'fetched', channel: 'orders', fromSeq: 2, toSeq: 3, count: 2 });
  });
});
