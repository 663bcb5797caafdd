/**
 * The client SDK over real sockets (the `ws` package, as in Node without a global WebSocket),
 * against a minimal in-test server that speaks the protocol: subscribe, resume from an in-memory
 * log, ping. The server drops every connection mid-stream, as the offline gateway can.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { AuthError, connect, type RelayClient } from '../../src/client/index.js';
import type { Envelope } from '../../src/core/envelope.js';
import type { ServerFrame } from '../../src/core/protocol.js';
import { envelopeFactory } from '../helpers/envelopes.js';

interface Peer {
  readonly socket: WebSocket;
  readonly channels: Set<string>;
}

async function startProtocolServer() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const peers = new Set<Peer>();
  const log: Envelope[] = [];
  const tokens: string[] = [];
  const send = (peer: Peer, frame: ServerFrame) => peer.socket.send(JSON.stringify(frame));

  server.on('connection', (socket, request) => {
    tokens.push(new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? '');
    const peer: Peer = { socket, channels: new Set() };
    peers.add(peer);
    socket.on('close', () => peers.delete(peer));
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString());
      if (message.action === 'subscribe') {
        for (const channel of message.channels) peer.channels.add(channel);
        send(peer, { type: 'subscribed', channels: message.channels });
      } else if (message.action === 'resume') {
        for (const { channel, since } of message.channels as { channel: string; since: string }[]) {
          const from = log.find((event) => event.id === since);
          const missed = log.filter(
            (event) => event.channel === channel && from && event.position > from.position,
          );
          for (let start = 0; start < missed.length; start += 7) {
            send(peer, { type: 'events', events: missed.slice(start, start + 7) });
          }
          send(peer, { type: 'resumed', channel, replayed: missed.length });
        }
      } else if (message.action === 'ping') {
        send(peer, { type: 'pong', id: message.id });
      }
    });
  });

  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/dev`,
    tokens,
    publish(event: Envelope) {
      log.push(event);
      for (const peer of peers) {
        if (!peer.channels.has(event.channel)) continue;
        // Alternate single and coalesced frames, and send a duplicate now and then (at-least-once).
        const n = log.length;
        send(peer, n % 3 === 0 ? { type: 'events', events: [event] } : { type: 'event', event });
        if (n % 17 === 0) send(peer, { type: 'event', event });
      }
    },
    dropAll(): number {
      const count = peers.size;
      for (const peer of peers) peer.socket.terminate();
      return count;
    },
    get connected() {
      return peers.size;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function envelope(n: number): Envelope {
  return envelopeFactory({
    id: `evt-${String(n).padStart(5, '0')}`,
    at: Date.parse('2026-11-01T00:00:00.000Z') + n,
    data: { n },
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('client SDK over real sockets', () => {
  let server: Awaited<ReturnType<typeof startProtocolServer>> | undefined;
  let client: RelayClient | undefined;

  afterEach(async () => {
    client?.close();
    await server?.close();
  });

  it('delivers 500 events exactly once and in order while the server drops the connection twice', async () => {
    server = await startProtocolServer();
    const live = server;
    let tokenCount = 0;
    client = connect({
      url: live.url,
      getToken: () => `token-${++tokenCount}`,
      backoff: { baseMs: 20, maxMs: 200 },
    });
    const received: string[] = [];
    client.subscribe('orders', (event) => received.push(event.id));
    await client.ready();

    for (let n = 1; n <= 500; n += 1) {
      live.publish(envelope(n));
      if (n === 150 || n === 350) {
        expect(live.dropAll()).toBe(1);
      }
      // Let frames, drops and reconnects interleave with publishing.
      if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await until(() => received.length >= 500, '500 events');
    await client.ready();

    const expected = Array.from({ length: 500 }, (_, i) => envelope(i + 1).id);
    expect(received).toEqual(expected);
    expect(live.tokens).toEqual(['token-1', 'token-2', 'token-3']);
  });

  it('keeps a quiet connection alive with pings and stops for good on close()', async () => {
    server = await startProtocolServer();
    const live = server;
    client = connect({ url: live.url, token: 'static', pingIntervalMs: 50, pongTimeoutMs: 1000 });
    const states: string[] = [];
    client.on('state', (state) => states.push(state));
    await client.ready();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.state).toBe('open');
    client.close();
    await until(() => live.connected === 0, 'the server to see the close');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(live.connected).toBe(0);
    expect(states).toEqual(['open', 'closed']);
  });

  it('sees the HTTP status of a refused upgrade and ends in failed with a static token', async () => {
    let upgrades = 0;
    const refusing = createServer();
    refusing.on('upgrade', (_request, socket) => {
      upgrades += 1;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (refusing.address() as AddressInfo).port;
      client = connect({
        url: `ws://127.0.0.1:${port}/dev`,
        token: 'expired',
        backoff: { baseMs: 10, maxMs: 20 },
        maxAuthFailures: 2,
      });
      const failure = await client.ready().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(AuthError);
      expect((failure as AuthError).status).toBe(401);
      expect(client.state).toBe('failed');
      expect(upgrades).toBe(2);
    } finally {
      refusing.closeAllConnections();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
