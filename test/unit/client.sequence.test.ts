/**
 * Positions, de-duplication and gaps: every channel resumes from where it stands (its `seq` and
 * `epoch`, or its last event id on servers without sequences), anything at or below the
 * delivered watermark is a duplicate, and events after a gap wait for it to be filled or fetched.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ConnectOptions, Envelope, RelayClient } from '../../src/client/index.js';
import { envelope, type FakeSocket, sequenced } from './clientFakes.js';
import { useClientHarness } from './clientHarness.js';

describe('client positions and gaps', () => {
  const { network, open, refreshesOf, accept, acceptHeads } = useClientHarness({ random: () => 0 });

  /** Collects each channel's delivered events and every refresh notice. */
  function record(c: RelayClient, channels: string[]) {
    const seen: Record<string, number[]> = {};
    for (const channel of channels) {
      seen[channel] = [];
      c.subscribe(channel, (event) => seen[channel]?.push(event.seq ?? Number(event.data.n)));
    }
    return { seen, refreshes: refreshesOf(c) };
  }

  /** A client recording `orders`, confirmed at the start of epoch e1. */
  async function openOrders(options: Partial<ConnectOptions> = {}) {
    const recorded = record(await open(options), ['orders']);
    return { ...recorded, socket: acceptHeads({ orders: [0, 'e1'] }) };
  }

  /** The fetch the client sends for `orders` in epoch e1. */
  const fetchOf = (fromSeq: number, toSeq: number) => ({
    action: 'fetch',
    channel: 'orders',
    fromSeq,
    toSeq,
    epoch: 'e1',
  });

  async function reconnect(): Promise<FakeSocket> {
    network().last().drop();
    await vi.advanceTimersByTimeAsync(1);
    const socket = network().last();
    socket.open();
    return socket;
  }

  it('resumes a quiet channel across a drop from the head it was subscribed at', async () => {
    const c = await open();
    const { seen, refreshes } = record(c, ['busy', 'quiet']);
    const first = acceptHeads({ busy: [5, 'e1'], quiet: [0, 'e1'] });
    first.frame({ type: 'events', events: [sequenced(6, 'busy'), sequenced(7, 'busy')] });

    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['busy', 'quiet'] });
    expect(second.messages('resume')).toEqual([
      {
        action: 'resume',
        channels: [
          { channel: 'busy', since: 'busy-0007', afterSeq: 7, epoch: 'e1' },
          { channel: 'quiet', afterSeq: 0, epoch: 'e1' },
        ],
      },
    ]);
    // Three events were written to the quiet channel while the client was away.
    second.frame({
      type: 'events',
      events: [sequenced(1, 'quiet'), sequenced(2, 'quiet'), sequenced(3, 'quiet')],
    });
    second.frame({ type: 'resumed', channel: 'quiet', replayed: 3, head: { seq: 3, epoch: 'e1' } });
    second.frame({ type: 'resumed', channel: 'busy', replayed: 0, head: { seq: 7, epoch: 'e1' } });
    await expect(c.ready()).resolves.toBeUndefined();
    expect(seen).toEqual({ busy: [6, 7], quiet: [1, 2, 3] });
    expect(refreshes).toEqual([]);
  });

  it('moves the resume point on a refresh, so a quiet channel is not refreshed again on the next reconnect', async () => {
    const c = await open();
    const { refreshes } = record(c, ['quiet']);
    acceptHeads({ quiet: [0, 'e1'] });
    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['quiet'] });
    second.frame({
      type: 'refresh',
      channel: 'quiet',
      reason: 'history_lost',
      head: { seq: 40, epoch: 'e2' },
    });
    expect(refreshes).toEqual([{ channel: 'quiet', reason: 'history_lost' }]);

    const third = await reconnect();
    third.frame({ type: 'subscribed', channels: ['quiet'] });
    expect(third.messages('resume')[0]?.channels).toEqual([{ channel: 'quiet', afterSeq: 40, epoch: 'e2' }]);
    third.frame({ type: 'resumed', channel: 'quiet', replayed: 0, head: { seq: 40, epoch: 'e2' } });
    expect(refreshes).toHaveLength(1);
    await expect(c.ready()).resolves.toBeUndefined();
  });

  it('without sequences, forgets an event id the server no longer knows instead of being refreshed on every reconnect', async () => {
    const c = await open({ resumeRetries: 0 });
    const refreshes = refreshesOf(c);
    c.subscribe('orders', () => {}, { since: 'orders-0001' });
    accept(['orders']);
    network().last().frame({ type: 'refresh', channel: 'orders', reason: 'unknown_since' });
    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    expect(second.messages('resume')).toEqual([]);
    expect(refreshes).toHaveLength(1);
  });

  it('delivers 1,500 events replayed inside the overlap exactly once (with sequences)', async () => {
    const c = await open();
    const { seen } = record(c, ['orders']);
    const first = acceptHeads({ orders: [0, 'e1'] });
    const all = Array.from({ length: 1510 }, (_, i) => sequenced(i + 1));
    for (let i = 0; i < 1500; i += 50) first.frame({ type: 'events', events: all.slice(i, i + 50) });
    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    // The server's replay overlaps everything delivered before the drop.
    for (let i = 0; i < all.length; i += 50) second.frame({ type: 'events', events: all.slice(i, i + 50) });
    second.frame({ type: 'resumed', channel: 'orders', replayed: 1510 });
    expect(seen.orders).toEqual(all.map((event) => event.seq));
  });

  it('delivers 1,500 events replayed inside the overlap exactly once (without sequences)', async () => {
    const c = await open();
    const ids: string[] = [];
    c.subscribe('orders', (event) => ids.push(event.id));
    const first = accept(['orders']);
    // 1,510 events 1 ms apart: all inside the server's 2 s overlap before the resume point.
    const all = Array.from({ length: 1510 }, (_, i) => envelope(i + 1, 'orders', 1));
    for (let i = 0; i < 1500; i += 50) first.frame({ type: 'events', events: all.slice(i, i + 50) });
    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    expect(second.messages('resume')[0]?.channels).toEqual([{ channel: 'orders', since: 'orders-1500' }]);
    for (let i = 0; i < all.length; i += 50) second.frame({ type: 'events', events: all.slice(i, i + 50) });
    second.frame({ type: 'resumed', channel: 'orders', replayed: 1510 });
    expect(ids).toEqual(all.map((event) => event.id));
  });

  it('drops repeats at or below the delivered watermark', async () => {
    const { seen, socket } = await openOrders();
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2), sequenced(2), sequenced(1)] });
    socket.frame({ type: 'event', event: sequenced(3) });
    socket.frame({ type: 'event', event: sequenced(2) });
    expect(seen.orders).toEqual([1, 2, 3]);
  });

  it('delivers 1, 3, 2 as 1, 2, 3 without fetching', async () => {
    const { seen, socket } = await openOrders();
    socket.frame({ type: 'event', event: sequenced(1) });
    socket.frame({ type: 'event', event: sequenced(3) });
    expect(seen.orders).toEqual([1]);
    socket.frame({ type: 'event', event: sequenced(2) });
    expect(seen.orders).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.messages('fetch')).toEqual([]);
  });

  it('fetches a gap the stream has not filled after gapWaitMs, then delivers in order', async () => {
    const { seen, refreshes, socket } = await openOrders({ gapWaitMs: 1000 });
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2), sequenced(5), sequenced(6)] });
    await vi.advanceTimersByTimeAsync(999);
    expect(socket.messages('fetch')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.messages('fetch')).toEqual([fetchOf(3, 4)]);
    socket.frame({ type: 'events', events: [sequenced(3), sequenced(4)] });
    socket.frame({ type: 'fetched', channel: 'orders', fromSeq: 3, toSeq: 4, count: 2 });
    expect(seen.orders).toEqual([1, 2, 3, 4, 5, 6]);
    expect(refreshes).toEqual([]);
  });

  it('fetches a gap announced by a head even when nothing after it arrived', async () => {
    const c = await open({ gapWaitMs: 500 });
    const { seen } = record(c, ['orders']);
    acceptHeads({ orders: [2, 'e1'] });
    const second = await reconnect();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    second.frame({ type: 'events', events: [sequenced(3)] });
    // The replay stopped short of the head the server reports.
    second.frame({ type: 'resumed', channel: 'orders', replayed: 1, head: { seq: 5, epoch: 'e1' } });
    await vi.advanceTimersByTimeAsync(500);
    expect(second.messages('fetch')).toEqual([fetchOf(4, 5)]);
    second.frame({ type: 'events', events: [sequenced(4), sequenced(5)] });
    second.frame({ type: 'fetched', channel: 'orders', fromSeq: 4, toSeq: 5, count: 2 });
    expect(seen.orders).toEqual([3, 4, 5]);
  });

  it('tells the app to refresh when a gap cannot be filled, and carries on after it', async () => {
    const c = await open({ gapWaitMs: 100 });
    const { seen, refreshes } = record(c, ['orders', 'chat']);
    const socket = acceptHeads({ orders: [0, 'e1'], chat: [0, 'e1'] });
    socket.frame({
      type: 'events',
      events: [sequenced(1), sequenced(4), sequenced(1, 'chat'), sequenced(4, 'chat')],
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(socket.messages('fetch')).toHaveLength(2);
    socket.frame({
      type: 'refresh',
      channel: 'orders',
      reason: 'history_lost',
      head: { seq: 4, epoch: 'e1' },
    });
    socket.frame({ type: 'refresh', channel: 'chat', reason: 'history_lost' });
    expect(seen).toEqual({ orders: [1], chat: [1, 4] });
    expect(refreshes).toEqual([
      { channel: 'orders', reason: 'history_lost' },
      { channel: 'chat', reason: 'history_lost' },
    ]);
    // The refresh moved the position to the head: delivery carries on after it.
    socket.frame({ type: 'event', event: sequenced(5) });
    socket.frame({ type: 'event', event: sequenced(5, 'chat') });
    expect(seen).toEqual({ orders: [1, 5], chat: [1, 4, 5] });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.messages('fetch')).toHaveLength(2);
  });

  it('waits longer and fetches again when the fetched range is still in flight', async () => {
    const { seen, refreshes, socket } = await openOrders({ gapWaitMs: 100 });
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(4)] });
    await vi.advanceTimersByTimeAsync(100);
    socket.frame({ type: 'event', event: sequenced(2) });
    socket.frame({ type: 'fetched', channel: 'orders', fromSeq: 2, toSeq: 3, count: 1 });
    await vi.advanceTimersByTimeAsync(199);
    expect(socket.messages('fetch')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.messages('fetch').at(-1)).toEqual(fetchOf(3, 3));
    // Number 3 arrives live meanwhile.
    socket.frame({ type: 'event', event: sequenced(3) });
    socket.frame({ type: 'fetched', channel: 'orders', fromSeq: 3, toSeq: 3, count: 0 });
    expect(seen.orders).toEqual([1, 2, 3, 4]);
    expect(refreshes).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.messages('fetch')).toHaveLength(2);
  });

  it('retries a fetch answered INTERNAL or not answered at all, and never skips the range on its own', async () => {
    const { seen, refreshes, socket } = await openOrders({
      gapWaitMs: 100,
      resumeTimeoutMs: 5000,
      resumeRetries: 1,
    });
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(3)] });
    await vi.advanceTimersByTimeAsync(100);
    socket.frame({ type: 'error', code: 'INTERNAL', message: 'try again', action: 'fetch' });
    await vi.advanceTimersByTimeAsync(200);
    expect(socket.messages('fetch')).toHaveLength(2);
    // No answer: asked again after the timeout and a growing wait, nothing skipped, no refresh.
    await vi.advanceTimersByTimeAsync(5000 + 1000);
    expect(socket.messages('fetch').length).toBeGreaterThanOrEqual(3);
    expect(refreshes).toEqual([]);
    expect(seen.orders).toEqual([1]);
    socket.frame({ type: 'event', event: sequenced(2) });
    expect(seen.orders).toEqual([1, 2, 3]);
  });

  it('caps the events waiting behind a gap and fetches the ones it let go', async () => {
    const { seen, socket } = await openOrders({ gapWaitMs: 100, maxHeldEvents: 3 });
    socket.frame({
      type: 'events',
      events: [1, ...Array.from({ length: 8 }, (_, i) => i + 3)].map((n) => sequenced(n)),
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(socket.messages('fetch')).toEqual([fetchOf(2, 2)]);
    socket.frame({ type: 'event', event: sequenced(2) });
    socket.frame({ type: 'fetched', channel: 'orders', fromSeq: 2, toSeq: 2, count: 1 });
    expect(seen.orders).toEqual([1, 2, 3, 4, 5]);
    await vi.advanceTimersByTimeAsync(100);
    expect(socket.messages('fetch').at(-1)).toEqual(fetchOf(6, 10));
    socket.frame({ type: 'events', events: [6, 7, 8, 9, 10].map((n) => sequenced(n)) });
    socket.frame({ type: 'fetched', channel: 'orders', fromSeq: 6, toSeq: 10, count: 5 });
    expect(seen.orders).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('without sequences, ends a resume whose held events pass the cap and tells the app', async () => {
    const c = await open({ maxHeldEvents: 5 });
    const refreshes = refreshesOf(c);
    const ids: string[] = [];
    c.subscribe('orders', (event) => ids.push(event.id), { since: 'orders-0001' });
    const socket = accept(['orders']);
    socket.frame({ type: 'events', events: [2, 3, 4, 5, 6, 7].map((n) => envelope(n)) });
    expect(refreshes).toEqual([{ channel: 'orders', reason: 'resume_failed' }]);
    expect(ids).toHaveLength(6);
  });

  it('tells the app when a live event starts a new epoch, and continues from it', async () => {
    const { seen, refreshes, socket } = await openOrders();
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2), sequenced(1, 'orders', 'e2')] });
    socket.frame({ type: 'event', event: sequenced(2, 'orders', 'e2') });
    expect(refreshes).toEqual([{ channel: 'orders', reason: 'epoch_changed' }]);
    expect(seen.orders).toEqual([1, 2, 1, 2]);
  });

  it('exposes each subscription position and resumes a new client from a saved one', async () => {
    const c = await open();
    const subscription = c.subscribe('orders', () => {});
    const socket = acceptHeads({ orders: [0, 'e1'] });
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2)] });
    expect(subscription.position).toEqual({ seq: 2, epoch: 'e1', id: 'orders-0002' });
    c.close();

    const restored = await open();
    const seen: number[] = [];
    restored.subscribe('orders', (event: Envelope) => seen.push(event.seq ?? 0), {
      position: subscription.position,
    });
    const next = acceptHeads({ orders: [3, 'e1'] });
    expect(next.messages('resume')[0]?.channels).toEqual([
      { channel: 'orders', since: 'orders-0002', afterSeq: 2, epoch: 'e1' },
    ]);
    next.frame({ type: 'events', events: [sequenced(2), sequenced(3)] });
    next.frame({ type: 'resumed', channel: 'orders', replayed: 2 });
    expect(seen).toEqual([3]);
  });

  it('resuming by event id on a server with sequences, does not let a live event skip the replay', async () => {
    const c = await open();
    const seen: number[] = [];
    c.subscribe('orders', (event) => seen.push(event.seq ?? 0), { since: 'orders-0002' });
    const socket = network().last();
    socket.open();
    socket.frame({ type: 'event', event: sequenced(5) });
    socket.frame({
      type: 'subscribed',
      channels: ['orders'],
      heads: [{ channel: 'orders', seq: 5, epoch: 'e1' }],
    });
    expect(socket.messages('resume')[0]?.channels).toEqual([{ channel: 'orders', since: 'orders-0002' }]);
    socket.frame({ type: 'events', events: [sequenced(3), sequenced(4)] });
    socket.frame({ type: 'resumed', channel: 'orders', replayed: 2, head: { seq: 5, epoch: 'e1' } });
    expect(seen).toEqual([3, 4, 5]);
    socket.frame({ type: 'event', event: sequenced(6) });
    expect(seen).toEqual([3, 4, 5, 6]);
  });
});
