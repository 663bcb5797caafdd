/**
 * Receipts (`receipts: true`): an event is acknowledged after its handlers return, batched at
 * most once a second per connection (a full batch of 100 goes at once), kept across a reconnect,
 * and never for an event whose handler threw.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ConnectOptions } from '../../src/client/index.js';
import { envelope, type FakeSocket, sequenced } from './clientFakes.js';
import { useClientHarness } from './clientHarness.js';

describe('client receipts', () => {
  const harness = useClientHarness({ random: () => 0 });
  const { network, client } = harness;

  /** Connects and opens the first socket, not yet confirmed. */
  async function open(options: Partial<ConnectOptions> = {}): Promise<FakeSocket> {
    await harness.open(options);
    const socket = network().last();
    socket.open();
    return socket;
  }

  function accept(socket: FakeSocket, seq = 0): void {
    socket.frame({
      type: 'subscribed',
      channels: ['orders'],
      heads: [{ channel: 'orders', seq, epoch: 'e1' }],
    });
  }

  const ackedIds = (socket: FakeSocket) => socket.messages('ack').flatMap((m) => m.ids);

  it('sends nothing without the option', async () => {
    const socket = await open();
    client()?.subscribe('orders', () => undefined);
    accept(socket);
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2)] });
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.messages('ack')).toEqual([]);
  });

  it('acknowledges after the handler returns, in one message per second at most', async () => {
    const socket = await open({ receipts: true });
    const handled: string[] = [];
    client()?.subscribe('orders', (event) => {
      // The receipt must not be on the wire before the handler has run.
      expect(ackedIds(socket)).not.toContain(event.id);
      handled.push(event.id);
    });
    accept(socket);
    for (let seq = 1; seq <= 30; seq++) {
      socket.frame({ type: 'event', event: sequenced(seq) });
      await vi.advanceTimersByTimeAsync(100); // 10 events a second for 3 s
    }
    await vi.advanceTimersByTimeAsync(1000);
    const acks = socket.messages('ack');
    expect(ackedIds(socket)).toEqual(handled);
    expect(handled).toHaveLength(30);
    // 3 s of events, plus the tail: 3 or 4 messages, never one per event.
    expect(acks.length).toBeGreaterThanOrEqual(3);
    expect(acks.length).toBeLessThanOrEqual(4);
  });

  it('sends a full batch of 100 at once, and never more than 100 ids in a message', async () => {
    const socket = await open({ receipts: true });
    client()?.subscribe('orders', () => undefined);
    accept(socket);
    socket.frame({ type: 'events', events: Array.from({ length: 250 }, (_, i) => sequenced(i + 1)) });
    expect(socket.messages('ack').map((m) => m.ids.length)).toEqual([100, 100]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.messages('ack').map((m) => m.ids.length)).toEqual([100, 100, 50]);
    expect(new Set(ackedIds(socket)).size).toBe(250);
  });

  it('does not acknowledge an event whose handler threw', async () => {
    const socket = await open({ receipts: true });
    client()?.on('error', () => undefined);
    client()?.subscribe('orders', (event) => {
      if (event.seq === 2) throw new Error('app failed');
    });
    accept(socket);
    socket.frame({ type: 'events', events: [sequenced(1), sequenced(2), sequenced(3)] });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ackedIds(socket)).toEqual([sequenced(1).id, sequenced(3).id]);
  });

  it('keeps receipts the socket could not send and sends them on the next connection', async () => {
    const socket = await open({ receipts: true });
    client()?.subscribe('orders', () => undefined);
    accept(socket);
    socket.frame({ type: 'event', event: envelope(1) });
    socket.drop();
    await vi.advanceTimersByTimeAsync(1);
    const next = network().last();
    expect(next).not.toBe(socket);
    next.open();
    await vi.advanceTimersByTimeAsync(1000);
    expect(ackedIds(socket)).toEqual([]);
    expect(ackedIds(next)).toEqual([envelope(1).id]);
  });

  it('at 200 events a second sends at most 0.02 ack messages per event (measured: 0.01)', async () => {
    const socket = await open({ receipts: true });
    client()?.subscribe('orders', () => undefined);
    accept(socket);
    const seconds = 10;
    // 200 events a second, in frames of 4 every 20 ms (as a coalescing fan-out delivers them).
    let seq = 0;
    for (let tick = 0; tick < seconds * 50; tick++) {
      socket.frame({ type: 'events', events: Array.from({ length: 4 }, () => sequenced(++seq)) });
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(1000);
    const perEvent = socket.messages('ack').length / seq;
    expect(new Set(ackedIds(socket)).size).toBe(seq);
    expect(perEvent).toBeLessThanOrEqual(0.02);
    expect(perEvent).toBeCloseTo(0.01, 3);
  });
});
