/**
 * The connection never hangs and never hammers: one deadline per attempt, a back-off that starts
 * over only after a connection lasted, refused credentials end in `failed`, close codes follow
 * the documented policy, the host's wake-ups reconnect at once, a dead link is found quickly, and
 * one failed request affects only its own channels.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  CLIENT_DEFAULTS,
  ClientClosedError,
  ConnectionError,
  type ConnectionState,
  type Envelope,
  ServerError,
  TokenError,
} from '../../src/client/index.js';
import { fakeLifecycle, flush, sequenced } from './clientFakes.js';
import { useClientHarness } from './clientHarness.js';

describe('client connection', () => {
  const { network, start, open, errorsOf, accept, acceptHeads } = useClientHarness();

  it('gives up on a server that never answers the upgrade, then backs off', async () => {
    const c = await open({ connectTimeoutMs: 10_000 });
    const errors = errorsOf(c);
    c.subscribe('orders', () => {});
    await vi.advanceTimersByTimeAsync(9_999);
    expect(network().sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(network().sockets[0]?.closedByClient).toBe(true);
    expect(errors[0]).toBeInstanceOf(ConnectionError);
    expect(c.state).toBe('connecting');
    // Each attempt lasts 10 s and the pauses grow: a bounded number of attempts in 10 minutes.
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(network().sockets.length).toBeGreaterThan(5);
    expect(network().sockets.length).toBeLessThan(30);
  });

  it('gives up on a server that opens but never confirms', async () => {
    const c = await open({ connectTimeoutMs: 5000 });
    c.subscribe('orders', () => {});
    network().last().open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(network().sockets[0]?.closedByClient).toBe(true);
    expect(c.state).toBe('reconnecting');
  });

  it('gives up on a getToken that never settles, then asks again after a back-off', async () => {
    let calls = 0;
    const c = await open({
      getToken: () => {
        calls += 1;
        return new Promise<string>(() => {});
      },
      connectTimeoutMs: 10_000,
    });
    const errors = errorsOf(c);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors[0]).toBeInstanceOf(ConnectionError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    // Each attempt costs its 10 s deadline plus a growing pause (15 s at the cap with this jitter).
    expect(calls).toBeLessThan(35);
    expect(network().sockets).toHaveLength(0);
  });

  it('ends in failed with AuthError after repeated 401s with a static token', async () => {
    const c = await open({ maxAuthFailures: 3 });
    const errors = errorsOf(c);
    const states: ConnectionState[] = [];
    c.on('state', (state) => states.push(state));
    const ready = c.ready();
    ready.catch(() => {});
    for (let i = 0; i < 3; i += 1) {
      network().last().drop(1006, 401);
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(c.state).toBe('failed');
    expect(network().sockets).toHaveLength(3);
    const error = await ready.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).status).toBe(401);
    expect(errors.filter((e) => e instanceof AuthError)).toHaveLength(3);
    await expect(c.ready()).rejects.toBeInstanceOf(AuthError);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(network().sockets).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
    expect(states.at(-1)).toBe('failed');

    // connect() tries again.
    c.connect();
    await flush();
    expect(network().sockets).toHaveLength(4);
    expect(c.state).toBe('connecting');
  });

  it('keeps asking getToken after a refusal until getToken says stop', async () => {
    const tokens = ['a', 'b', null];
    const c = await open({ getToken: () => tokens.shift() ?? null, maxAuthFailures: 1 });
    network().last().drop(1006, 403);
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state).toBe('connecting');
    expect(new URL(network().last().url).searchParams.get('token')).toBe('b');
    network().last().drop(1008);
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.state).toBe('failed');
    await expect(c.ready()).rejects.toBeInstanceOf(AuthError);
    expect(network().sockets).toHaveLength(2);
  });

  it('retries a getToken that throws, reporting TokenError to a listener added right after connect()', async () => {
    let calls = 0;
    const c = start({
      token: undefined,
      getToken: () => {
        calls += 1;
        if (calls === 1) throw new Error('token service down');
        return 'tok';
      },
    });
    const errors = errorsOf(c);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(network().sockets).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TokenError);
  });

  it('lets a server that confirms and then closes see only a few connections a minute', async () => {
    const c = await open();
    c.subscribe('orders', () => {});
    let opened = 0;
    const counts: number[] = [];
    for (let minute = 0; minute < 10; minute += 1) {
      const before = opened;
      for (let ms = 0; ms < 60_000; ms += 100) {
        const socket = network().last();
        if (network().sockets.length > opened) {
          opened = network().sockets.length;
          socket.open();
          socket.frame({ type: 'subscribed', channels: ['orders'] });
          socket.drop(1000);
        }
        await vi.advanceTimersByTimeAsync(100);
      }
      counts.push(opened - before);
    }
    expect(c.state).toBe('reconnecting');
    // The first minute climbs the back-off; after it, at most 4 a minute (15 s at the 30 s cap).
    expect(counts[0]).toBeLessThanOrEqual(10);
    for (const count of counts.slice(1)) expect(count).toBeLessThanOrEqual(4);
  });

  it.each([
    [1000, 'reconnecting'],
    [1001, 'reconnecting'],
    [1006, 'reconnecting'],
    [1009, 'reconnecting'],
    [1011, 'reconnecting'],
    [4000, 'reconnecting'],
    [4400, 'failed'],
    [4499, 'failed'],
  ] as const)('after close code %i the client is %s', async (code, expected) => {
    const c = await open();
    c.subscribe('orders', () => {});
    accept(['orders']);
    network().last().drop(code);
    expect(c.state).toBe(expected);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(network().sockets.length > 1).toBe(expected === 'reconnecting');
  });

  it('treats 1008 and 4401/4403 as refused credentials', async () => {
    const c = await open({ maxAuthFailures: 3 });
    const errors = errorsOf(c);
    for (const code of [1008, 4401, 4403]) {
      network().last().drop(code);
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(errors.map((error) => error instanceof AuthError && error.status)).toEqual([1008, 4401, 4403]);
    expect(c.state).toBe('failed');
  });

  it('reconnects at once, with the back-off reset, when the host wakes up; not while offline', async () => {
    const host = fakeLifecycle();
    const c = await open({ lifecycle: host.lifecycle, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    c.subscribe('orders', () => {});
    accept(['orders']);
    network().last().drop();
    host.wake();
    await flush();
    expect(network().sockets).toHaveLength(2);

    host.state.isOnline = false;
    network().last().drop();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(network().sockets).toHaveLength(2);
    host.wake(); // still offline: nothing
    await flush();
    expect(network().sockets).toHaveLength(2);
    host.state.isOnline = true;
    host.wake();
    await flush();
    expect(network().sockets).toHaveLength(3);
    accept(['orders']);
    expect(c.state).toBe('open');

    // While open, a wake-up checks the link with a ping.
    host.wake();
    expect(network().last().messages('ping')).toHaveLength(1);
    c.close();
    expect(host.listeners).toBe(0);
  });

  it('finds a dead link well under a minute with the defaults', async () => {
    const c = await open();
    c.subscribe('orders', () => {});
    const socket = accept(['orders']);
    const deadAt = Date.now();
    await vi.waitUntil(
      () => {
        vi.advanceTimersByTime(1000);
        return socket.closedByClient;
      },
      { interval: 0, timeout: 5000 },
    );
    const detected = Date.now() - deadAt;
    expect(detected).toBeLessThanOrEqual(CLIENT_DEFAULTS.pingIntervalMs + CLIENT_DEFAULTS.pongTimeoutMs);
    expect(detected).toBeLessThan(60_000);
    expect(c.state).toBe('reconnecting');
  });

  it('replaces the connection before the 2-hour cut and resumes every channel', async () => {
    const c = await open({ pingIntervalMs: 3 * 60 * 60_000 });
    const errors = errorsOf(c);
    c.subscribe('orders', () => {});
    const first = acceptHeads({ orders: [4, 'e1'] });
    await vi.advanceTimersByTimeAsync(CLIENT_DEFAULTS.maxConnectionMs - 1);
    expect(network().sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(first.closedByClient).toBe(true);
    expect(network().sockets).toHaveLength(2);
    expect(CLIENT_DEFAULTS.maxConnectionMs).toBeLessThan(2 * 60 * 60_000);
    const second = network().last();
    second.open();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    expect(second.messages('resume')[0]?.channels).toEqual([{ channel: 'orders', afterSeq: 4, epoch: 'e1' }]);
    expect(errors).toEqual([]);
  });

  it('retries a subscription answered INTERNAL for its own channels only; ready() waits for it', async () => {
    const c = await open();
    const errors = errorsOf(c);
    c.subscribe('a', () => {});
    c.subscribe('b', () => {});
    const socket = network().last();
    socket.open();
    c.subscribe('c', () => {});
    let ready = false;
    void c.ready().then(() => {
      ready = true;
    });
    socket.frame({ type: 'error', code: 'INTERNAL', message: 'try again', action: 'subscribe' });
    socket.frame({ type: 'subscribed', channels: ['c'] });
    await flush();
    expect(errors[0]).toBeInstanceOf(ServerError);
    expect(ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.messages('subscribe').slice(2)).toEqual([
      { action: 'subscribe', channels: ['a'] },
      { action: 'subscribe', channels: ['b'] },
    ]);
    socket.frame({ type: 'subscribed', channels: ['a'] });
    await flush();
    expect(ready).toBe(false);
    socket.frame({ type: 'subscribed', channels: ['b'] });
    await flush();
    expect(ready).toBe(true);
  });

  it('asks again for a subscription that got no answer (a route failure API Gateway reports outside the protocol)', async () => {
    const c = await open({ resumeTimeoutMs: 5000 });
    const socket = accept([]);
    c.subscribe('orders', () => {});
    socket.frame('{"message": "Internal server error", "connectionId": "abc=", "requestId": "r1"}');
    let ready = false;
    void c.ready().then(() => {
      ready = true;
    });
    await vi.advanceTimersByTimeAsync(4999);
    expect(socket.messages('subscribe')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.messages('subscribe')).toEqual([
      { action: 'subscribe', channels: ['orders'] },
      { action: 'subscribe', channels: ['orders'] },
    ]);
    expect(ready).toBe(false);
    socket.frame({ type: 'subscribed', channels: ['orders'] });
    await flush();
    expect(ready).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.messages('subscribe')).toHaveLength(2);
  });

  it('marks refused only the channels of the subscription the server refused', async () => {
    const c = await open();
    c.subscribe('orders', () => {});
    const socket = network().last();
    socket.open();
    c.subscribe('secret', () => {});
    socket.frame({ type: 'subscribed', channels: ['orders'] });
    socket.frame({ type: 'error', code: 'FORBIDDEN_CHANNEL', message: 'no', action: 'subscribe' });
    await expect(c.ready()).resolves.toBeUndefined();
    socket.frame({ type: 'event', event: sequenced(1) });
    // `orders` kept working; `secret` is not retried.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.messages('subscribe')).toHaveLength(2);
  });

  it('retries a resume answered INTERNAL for that channel only', async () => {
    const c = await open({ backoff: { baseMs: 1, maxMs: 1 } });
    c.subscribe('a', () => {}, { position: { seq: 1, epoch: 'e1' } });
    c.subscribe('b', () => {}, { position: { seq: 1, epoch: 'e1' } });
    const socket = network().last();
    socket.open();
    socket.frame({ type: 'subscribed', channels: ['a'] });
    socket.frame({ type: 'subscribed', channels: ['b'] });
    socket.frame({ type: 'error', code: 'INTERNAL', message: 'try again', action: 'resume' });
    socket.frame({ type: 'resumed', channel: 'b', replayed: 0 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.messages('resume').map((m) => m.channels.map((x) => x.channel))).toEqual([
      ['a'],
      ['b'],
      ['a'],
    ]);
    socket.frame({ type: 'resumed', channel: 'a', replayed: 0 });
    await expect(c.ready()).resolves.toBeUndefined();
  });

  it('disconnect() stops and keeps positions; connect() resumes from them', async () => {
    const c = await open();
    const seen: number[] = [];
    c.subscribe('orders', (event) => seen.push(event.seq ?? 0));
    const first = acceptHeads({ orders: [0, 'e1'] });
    first.frame({ type: 'event', event: sequenced(1) });
    c.disconnect();
    expect(c.state).toBe('disconnected');
    expect(first.closedByClient).toBe(true);
    await expect(c.ready()).rejects.toBeInstanceOf(ConnectionError);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(network().sockets).toHaveLength(1);

    c.connect();
    await flush();
    const second = network().last();
    second.open();
    second.frame({ type: 'subscribed', channels: ['orders'] });
    expect(second.messages('resume')[0]?.channels).toEqual([
      { channel: 'orders', since: 'orders-0001', afterSeq: 1, epoch: 'e1' },
    ]);
    second.frame({ type: 'events', events: [sequenced(1), sequenced(2)] });
    second.frame({ type: 'resumed', channel: 'orders', replayed: 2 });
    expect(seen).toEqual([1, 2]);
    c.close();
    expect(() => c.connect()).toThrow(ClientClosedError);
  });

  it('offers each channel as an async iterator that unsubscribes when the loop ends', async () => {
    const c = await open();
    const socket = network().last();
    socket.open();
    const events = c.stream('orders');
    socket.frame({
      type: 'subscribed',
      channels: ['orders'],
      heads: [{ channel: 'orders', seq: 0, epoch: 'e1' }],
    });
    socket.frame({ type: 'events', events: [sequenced(2), sequenced(1)] });
    const got: number[] = [];
    const reading = (async () => {
      for await (const event of events as AsyncIterable<Envelope>) {
        got.push(event.seq ?? 0);
        if (got.length === 3) break;
      }
    })();
    await flush();
    socket.frame({ type: 'event', event: sequenced(3) });
    await reading;
    expect(got).toEqual([1, 2, 3]);
    expect(socket.sent.at(-1)).toEqual({ action: 'unsubscribe', channels: ['orders'] });
  });

  it('ends an async iterator when the client closes', async () => {
    const c = await open();
    const events = c.stream('orders');
    const next = events.next();
    c.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });
});
