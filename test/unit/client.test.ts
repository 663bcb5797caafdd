import { describe, expect, it, vi } from 'vitest';
import {
  backoffCeilingMs,
  backoffDelayMs,
  ClientClosedError,
  type ConnectionState,
  type ConnectOptions,
  MalformedFrameError,
  ServerError,
} from '../../src/client/index.js';
import { RecentIds } from '../../src/client/recentIds.js';
import type { Envelope } from '../../src/core/envelope.js';
import { envelopeFactory } from '../helpers/envelopes.js';
import { type FakeSocket, flush } from './clientFakes.js';
import { useClientHarness } from './clientHarness.js';

const BASE_TIME = Date.parse('2026-11-01T10:00:00.000Z');

function envelope(n: number, channel = 'orders'): Envelope {
  return envelopeFactory({
    id: `evt-${String(n).padStart(4, '0')}`,
    at: BASE_TIME + n * 1000,
    channel,
    resourceId: `order-${n}`,
    data: { n },
  });
}

describe('client SDK', () => {
  const { network, start, open, errorsOf, refreshesOf, accept } = useClientHarness();

  /** Delivers evt-0001 on a confirmed first connection, drops it, and confirms the next one. */
  async function reconnectAfterFirstEvent(backoffMs: number): Promise<FakeSocket> {
    accept(['orders']).frame({ type: 'event', event: envelope(1) });
    network().last().drop();
    await vi.advanceTimersByTimeAsync(backoffMs);
    return accept(['orders']);
  }

  it('connects with the token in the query string and subscribes every channel', async () => {
    const c = await open();
    c.subscribe('orders', () => {});
    c.subscribe('chat', () => {});
    const socket = network().last();
    expect(new URL(socket.url).searchParams.get('token')).toBe('tok');
    socket.open();
    expect(socket.sent).toEqual([{ action: 'subscribe', channels: ['orders', 'chat'] }]);
  });

  it('delivers the envelopes of event and events frames once per id, in arrival order', async () => {
    const c = await open();
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = accept(['orders']);
    socket.frame({ type: 'event', event: envelope(1) });
    socket.frame({ type: 'events', events: [envelope(2), envelope(1), envelope(3)] });
    socket.frame({ type: 'event', event: envelope(3) });
    expect(seen).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
  });

  it('delivers an unseen straggler whose position is behind the last delivered event', async () => {
    const c = await open();
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = accept(['orders']);
    socket.frame({ type: 'events', events: [envelope(1), envelope(3), envelope(2)] });
    expect(seen).toEqual(['evt-0001', 'evt-0003', 'evt-0002']);
  });

  it('routes events to their channel only and ignores channels it did not subscribe', async () => {
    const c = await open();
    const orders: string[] = [];
    const chat: string[] = [];
    c.subscribe('orders', (event) => orders.push(event.id));
    c.subscribe('chat', (event) => chat.push(event.id));
    const socket = accept(['orders', 'chat']);
    socket.frame({
      type: 'events',
      events: [envelope(1, 'orders'), envelope(2, 'chat'), envelope(3, 'other')],
    });
    expect(orders).toEqual(['evt-0001']);
    expect(chat).toEqual(['evt-0002']);
  });

  it('after a drop, resubscribes, waits for the confirmation, then resumes from the last delivered id', async () => {
    const c = await open({ backoff: { baseMs: 100, maxMs: 1000 } });
    c.subscribe('orders', () => {});
    c.subscribe('chat', () => {});
    const first = accept(['orders', 'chat']);
    first.frame({ type: 'events', events: [envelope(1), envelope(2), envelope(5, 'chat')] });
    first.drop();
    await vi.advanceTimersByTimeAsync(100);
    const second = network().last();
    expect(second).not.toBe(first);
    second.open();
    expect(second.actions()).toEqual(['subscribe']);
    second.frame({ type: 'subscribed', channels: ['orders', 'chat'] });
    expect(second.sent[1]).toEqual({
      action: 'resume',
      channels: [
        { channel: 'orders', since: 'evt-0002' },
        { channel: 'chat', since: 'evt-0005' },
      ],
    });
  });

  it('holds live events during a resume and then delivers them with the replay in position order, without duplicates', async () => {
    const c = await open({ backoff: { baseMs: 100, maxMs: 1000 } });
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const first = accept(['orders']);
    first.frame({ type: 'events', events: [envelope(1), envelope(2)] });
    first.drop();
    await vi.advanceTimersByTimeAsync(100);
    const second = network().last();
    second.open();
    // A live event can arrive before the subscription is even confirmed.
    second.frame({ type: 'event', event: envelope(6) });
    second.frame({ type: 'subscribed', channels: ['orders'] });
    second.frame({ type: 'event', event: envelope(7) });
    // The replay: 2 again (at-least-once), the missed 3..5, and 6 which also came live.
    second.frame({ type: 'events', events: [envelope(2), envelope(3), envelope(4)] });
    second.frame({ type: 'events', events: [envelope(5), envelope(6)] });
    expect(seen).toEqual(['evt-0001', 'evt-0002']);
    second.frame({ type: 'resumed', channel: 'orders', replayed: 5 });
    expect(seen).toEqual([
      'evt-0001',
      'evt-0002',
      'evt-0003',
      'evt-0004',
      'evt-0005',
      'evt-0006',
      'evt-0007',
    ]);
    second.frame({ type: 'event', event: envelope(8) });
    second.frame({ type: 'event', event: envelope(7) });
    expect(seen.at(-1)).toBe('evt-0008');
    expect(seen).toHaveLength(8);
  });

  it('resolves ready() only once subscriptions are confirmed and resumes have caught up', async () => {
    const c = await open({ backoff: { baseMs: 100, maxMs: 1000 } });
    c.subscribe('orders', () => {});
    let ready = false;
    void c.ready().then(() => {
      ready = true;
    });
    const first = network().last();
    first.open();
    await flush();
    expect(ready).toBe(false);
    first.frame({ type: 'subscribed', channels: ['orders'] });
    await flush();
    expect(ready).toBe(true);

    first.frame({ type: 'event', event: envelope(1) });
    first.drop();
    await vi.advanceTimersByTimeAsync(100);
    let readyAgain = false;
    void c.ready().then(() => {
      readyAgain = true;
    });
    const second = accept(['orders']);
    await flush();
    expect(readyAgain).toBe(false);
    second.frame({ type: 'resumed', channel: 'orders', replayed: 0 });
    await flush();
    expect(readyAgain).toBe(true);
  });

  it('forgets events held by a resume that a drop interrupted, and resumes from the same id again', async () => {
    const c = await open({ backoff: { baseMs: 100, maxMs: 1000 } });
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const second = await reconnectAfterFirstEvent(100);
    second.frame({ type: 'event', event: envelope(9) });
    second.drop();
    await vi.advanceTimersByTimeAsync(100);
    const third = accept(['orders']);
    expect(third.sent[1]).toEqual({ action: 'resume', channels: [{ channel: 'orders', since: 'evt-0001' }] });
    third.frame({ type: 'events', events: [envelope(2), envelope(9)] });
    third.frame({ type: 'resumed', channel: 'orders', replayed: 2 });
    expect(seen).toEqual(['evt-0001', 'evt-0002', 'evt-0009']);
  });

  it('asks getToken for a fresh token on every reconnect', async () => {
    let issued = 0;
    const getToken = vi.fn(async () => {
      issued += 1;
      return `token-${issued}`;
    });
    await open({ getToken, token: undefined, backoff: { baseMs: 50, maxMs: 50 } } as Partial<ConnectOptions>);
    network().last().open();
    network().last().drop();
    await vi.advanceTimersByTimeAsync(50);
    network().last().drop();
    await vi.advanceTimersByTimeAsync(50);
    expect(getToken).toHaveBeenCalledTimes(3);
    expect(network().sockets.map((socket) => new URL(socket.url).searchParams.get('token'))).toEqual([
      'token-1',
      'token-2',
      'token-3',
    ]);
  });

  it('retries with back-off when getToken fails, reporting the error', async () => {
    const getToken = vi.fn().mockRejectedValueOnce(new Error('login expired')).mockResolvedValue('ok');
    const c = start({
      url: 'ws://127.0.0.1:9/',
      token: undefined,
      getToken,
      backoff: { baseMs: 200, maxMs: 200 },
    });
    const errors = errorsOf(c);
    await flush();
    expect(network().sockets).toHaveLength(0);
    expect(errors[0]?.name).toBe('TokenError');
    await vi.advanceTimersByTimeAsync(100);
    expect(network().sockets).toHaveLength(1);
  });

  it('waits a full-jitter delay between failed attempts, doubling the ceiling up to the maximum', async () => {
    const delays: number[] = [];
    let random = 0.999;
    await open({ backoff: { baseMs: 100, maxMs: 1000 }, random: () => random });
    // Never opens: each socket fails; measure when the next one appears.
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const count = network().sockets.length;
      network().last().drop();
      let waited = 0;
      while (network().sockets.length === count) {
        await vi.advanceTimersByTimeAsync(1);
        waited += 1;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
    random = 0;
    network().last().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(network().sockets).toHaveLength(8);
  });

  it('keeps back-off delays within [0, min(max, base·2^n)) for any random draw', () => {
    const options = { baseMs: 250, maxMs: 8000 };
    for (const attempt of [0, 1, 2, 5, 10, 60, 2000]) {
      const ceiling = backoffCeilingMs(attempt, options);
      expect(ceiling).toBe(Math.min(8000, 250 * 2 ** attempt));
      expect(backoffDelayMs(attempt, options, () => 0)).toBe(0);
      const top = backoffDelayMs(attempt, options, () => 0.999999);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
    }
  });

  it('resets the back-off only once a connection has stayed up', async () => {
    const c = await open({
      backoff: { baseMs: 100, maxMs: 10_000 },
      random: () => 0.999,
      stableAfterMs: 30_000,
    });
    c.subscribe('orders', () => {});
    for (let i = 0; i < 4; i += 1) {
      network().last().drop();
      await vi.advanceTimersByTimeAsync(10_000);
    }
    accept(['orders']);
    const count = network().sockets.length;
    // Confirmed but closed at once: the next delay keeps growing (attempt 5: up to 3.2 s).
    network().last().drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(network().sockets).toHaveLength(count);
    await vi.advanceTimersByTimeAsync(2200);
    expect(network().sockets).toHaveLength(count + 1);
    accept(['orders']);
    await vi.advanceTimersByTimeAsync(30_000);
    network().last().drop();
    await vi.advanceTimersByTimeAsync(99);
    expect(network().sockets).toHaveLength(count + 2);
  });

  it('honours reconnectAfterMs of a close frame', async () => {
    const c = await open({ backoff: { baseMs: 100, maxMs: 100 }, random: () => 0 });
    c.subscribe('orders', () => {});
    const socket = accept(['orders']);
    socket.frame({ type: 'close', reason: 'deploying', reconnectAfterMs: 5000 });
    expect(socket.closedByClient).toBe(true);
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(4999);
    expect(network().sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(network().sockets).toHaveLength(2);
  });

  it('reports the connection states in order', async () => {
    const states: ConnectionState[] = [];
    const c = start({ url: 'ws://127.0.0.1:9/', token: 't', random: () => 0 });
    c.on('state', (state) => states.push(state));
    expect(c.state).toBe('connecting');
    await flush();
    network().last().open();
    network().last().drop();
    await flush();
    network().last().open();
    c.close();
    expect(states).toEqual(['open', 'reconnecting', 'open', 'closed']);
  });

  it('close() stops reconnecting, clears its timers and rejects ready()', async () => {
    const c = await open({ pingIntervalMs: 1000, backoff: { baseMs: 100, maxMs: 100 } });
    c.subscribe('orders', () => {});
    const socket = accept(['orders']);
    socket.drop();
    c.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(network().sockets).toHaveLength(1);
    expect(c.state).toBe('closed');
    await expect(c.ready()).rejects.toBeInstanceOf(ClientClosedError);
    expect(() => c.subscribe('x', () => {})).toThrow(ClientClosedError);
  });

  it('close() while open closes the socket and ignores anything it still receives', async () => {
    const c = await open();
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = accept(['orders']);
    c.close();
    expect(socket.closedByClient).toBe(true);
    socket.frame({ type: 'event', event: envelope(1) });
    socket.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toEqual([]);
    expect(network().sockets).toHaveLength(1);
  });

  it('sends a ping every interval and replaces a connection that does not answer', async () => {
    const c = await open({ pingIntervalMs: 1000, pongTimeoutMs: 500, backoff: { baseMs: 10, maxMs: 10 } });
    c.subscribe('orders', () => {});
    const socket = accept(['orders']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent.at(-1)).toMatchObject({ action: 'ping' });
    socket.frame({ type: 'pong', id: '1' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent.filter((m) => m.action === 'ping')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(socket.closedByClient).toBe(true);
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(10);
    expect(network().sockets).toHaveLength(2);
  });

  it('surfaces refresh frames and ends a resume the server answered with refresh', async () => {
    const c = await open({ backoff: { baseMs: 10, maxMs: 10 } });
    const refreshes = refreshesOf(c);
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = await reconnectAfterFirstEvent(10);
    socket.frame({ type: 'event', event: envelope(900) });
    socket.frame({ type: 'refresh', channel: 'orders', reason: 'too_many_missed' });
    expect(refreshes).toEqual([{ channel: 'orders', reason: 'too_many_missed' }]);
    expect(seen).toEqual(['evt-0001', 'evt-0900']);
    await expect(c.ready()).resolves.toBeUndefined();
  });

  it('asks again when a resume is answered unknown_since, since the audit log may lag live delivery', async () => {
    const c = await open({ backoff: { baseMs: 10, maxMs: 10 }, resumeRetries: 2 });
    const refreshes = refreshesOf(c);
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = await reconnectAfterFirstEvent(10);
    const resume = { action: 'resume', channels: [{ channel: 'orders', since: 'evt-0001' }] };
    socket.frame({ type: 'refresh', channel: 'orders', reason: 'unknown_since' });
    socket.frame({ type: 'event', event: envelope(3) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.sent.filter((m) => m.action === 'resume')).toEqual([resume, resume]);
    socket.frame({ type: 'events', events: [envelope(2), envelope(3)] });
    socket.frame({ type: 'resumed', channel: 'orders', replayed: 2 });
    expect(refreshes).toEqual([]);
    expect(seen).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
  });

  it('tells the app to refresh once the unknown_since retries are used up', async () => {
    const c = await open({ resumeRetries: 1 });
    const refreshes = refreshesOf(c);
    c.subscribe('orders', () => {}, { since: 'evt-bogus' });
    const socket = accept(['orders']);
    socket.frame({ type: 'refresh', channel: 'orders', reason: 'unknown_since' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(refreshes).toEqual([]);
    socket.frame({ type: 'refresh', channel: 'orders', reason: 'unknown_since' });
    expect(refreshes).toEqual([{ channel: 'orders', reason: 'unknown_since' }]);
    await expect(c.ready()).resolves.toBeUndefined();
  });

  it('tells the app to refresh when a resume gets no resumed frame in time and no retry is left', async () => {
    const c = await open({ backoff: { baseMs: 10, maxMs: 10 }, resumeTimeoutMs: 2000, resumeRetries: 0 });
    const refreshes = refreshesOf(c);
    c.subscribe('orders', () => {}, { since: 'evt-0001' });
    const socket = accept(['orders']);
    expect(socket.sent[1]).toEqual({
      action: 'resume',
      channels: [{ channel: 'orders', since: 'evt-0001' }],
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(refreshes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshes).toEqual([{ channel: 'orders', reason: 'resume_failed' }]);
  });

  it('asks for a slow replay again before giving up on it', async () => {
    const c = await open({ backoff: { baseMs: 10, maxMs: 10 }, resumeTimeoutMs: 2000, resumeRetries: 1 });
    const refreshes = refreshesOf(c);
    c.subscribe('orders', () => {}, { since: 'evt-0001' });
    const socket = accept(['orders']);
    const resumes = () => socket.sent.filter((m) => (m as { action?: string }).action === 'resume');
    expect(resumes()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2000 + 1000);
    expect(resumes()).toHaveLength(2);
    expect(refreshes).toEqual([]);
    socket.frame({ type: 'resumed', channel: 'orders', replayed: 0 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(refreshes).toEqual([]);
  });

  it('reports error frames and malformed frames without dropping the connection', async () => {
    const c = await open();
    const errors = errorsOf(c);
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id));
    const socket = accept(['orders']);
    socket.frame('not json');
    socket.frame('{"type":"event","event":{"id":"x"}}');
    socket.frame({ type: 'error', code: 'UNKNOWN_ACTION', message: 'no such action', action: 'dance' });
    socket.frame({ type: 'event', event: envelope(1) });
    expect(errors.map((error) => error.constructor)).toEqual([
      MalformedFrameError,
      MalformedFrameError,
      ServerError,
    ]);
    expect(seen).toEqual(['evt-0001']);
    expect(c.state).toBe('open');
  });

  it('settles ready() when the server refuses a subscription', async () => {
    const c = await open();
    c.subscribe('secret', () => {});
    const socket = network().last();
    socket.open();
    socket.frame({ type: 'error', code: 'FORBIDDEN_CHANNEL', message: 'not allowed', action: 'subscribe' });
    await expect(c.ready()).resolves.toBeUndefined();
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const c = await open();
    const errors = errorsOf(c);
    const seen: string[] = [];
    c.subscribe('orders', () => {
      throw new Error('app bug');
    });
    c.subscribe('orders', (event) => seen.push(event.id));
    accept(['orders']).frame({ type: 'event', event: envelope(1) });
    expect(seen).toEqual(['evt-0001']);
    expect(errors[0]?.name).toBe('HandlerError');
  });

  it('checks data with parse and types the handler with its result', async () => {
    const c = await open();
    const totals: number[] = [];
    c.subscribe<{ n: number }>('orders', (event) => totals.push(event.data.n * 10), {
      parse: (data) => {
        if (typeof data.n !== 'number') throw new Error('n must be a number');
        return { n: data.n };
      },
    });
    accept(['orders']).frame({ type: 'event', event: envelope(4) });
    expect(totals).toEqual([40]);
  });

  it('unsubscribes when the last handler of a channel is removed', async () => {
    const c = await open();
    const first = c.subscribe('orders', () => {});
    const second = c.subscribe('orders', () => {});
    const socket = accept(['orders']);
    first.remove();
    expect(socket.actions()).toEqual(['subscribe']);
    second.remove();
    expect(socket.sent.at(-1)).toEqual({ action: 'unsubscribe', channels: ['orders'] });
  });

  it('subscribes a channel added while open, resuming it from `since`', async () => {
    const c = await open();
    const socket = accept([]);
    const seen: string[] = [];
    c.subscribe('orders', (event) => seen.push(event.id), { since: 'evt-0002' });
    expect(socket.sent.at(-1)).toEqual({ action: 'subscribe', channels: ['orders'] });
    socket.frame({ type: 'subscribed', channels: ['orders'] });
    expect(socket.sent.at(-1)).toEqual({
      action: 'resume',
      channels: [{ channel: 'orders', since: 'evt-0002' }],
    });
    socket.frame({ type: 'events', events: [envelope(4), envelope(3)] });
    socket.frame({ type: 'resumed', channel: 'orders', replayed: 2 });
    expect(seen).toEqual(['evt-0003', 'evt-0004']);
  });
});

describe('RecentIds', () => {
  it('remembers at most its capacity, forgetting the oldest first', () => {
    const recent = new RecentIds(3, 60_000);
    for (const [i, id] of ['a', 'b', 'c', 'a', 'd'].entries()) recent.add(id, i);
    expect(recent.size).toBe(3);
    expect(['c', 'a', 'd'].every((id) => recent.has(id))).toBe(true);
  });

  it('forgets ids older than its window of event time, and does not vouch for what it forgot', () => {
    const recent = new RecentIds(2, 1000);
    recent.add('a', 0);
    recent.add('b', 500);
    recent.add('c', 1800);
    expect(recent.has('a')).toBe(false);
    expect(recent.covers(0)).toBe(false);
    // 'b' went for capacity although inside the window: its time is no longer trusted.
    recent.add('d', 1900);
    expect(recent.has('b')).toBe(false);
    expect(recent.covers(500)).toBe(false);
    expect(recent.covers(1850)).toBe(true);
  });
});
