/**
 * The set-up every client SDK unit test shares: fake timers and a fresh fake network per test, a
 * client connected over it, and that client closed (timers real again) after the test.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import {
  type ConnectOptions,
  connect,
  type RefreshNotice,
  type RelayClient,
} from '../../src/client/index.js';
import { type FakeSocket, fakeNetwork, flush } from './clientFakes.js';

export type FakeNetwork = ReturnType<typeof fakeNetwork>;

/**
 * Registers the hooks in the calling `describe` and returns what its tests use. `defaults` are
 * merged over the shared connect options (a URL, token `tok`, the fake network, `random` 0.5) and
 * under each test's own options.
 */
export function useClientHarness(defaults: Partial<ConnectOptions> = {}) {
  let network: FakeNetwork | undefined;
  let client: RelayClient | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
    network = fakeNetwork();
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    vi.useRealTimers();
  });

  const harness = {
    /** This test's network: every socket the client opened, in order. */
    network(): FakeNetwork {
      if (!network) throw new Error('the client harness is used outside a test');
      return network;
    },
    /** The client this test connected last (closed after the test). */
    client(): RelayClient | undefined {
      return client;
    },
    /** Connects without letting the async connect step run, for listeners added right after connect(). */
    start(options: Partial<ConnectOptions> = {}): RelayClient {
      client = connect({
        url: 'ws://127.0.0.1:9/dev',
        token: 'tok',
        socketFactory: harness.network().factory,
        random: () => 0.5,
        ...defaults,
        ...options,
      } as ConnectOptions);
      return client;
    },
    /** Connects and lets the connect step run: the first socket exists, not yet open. */
    async open(options: Partial<ConnectOptions> = {}): Promise<RelayClient> {
      const opened = harness.start(options);
      await flush();
      return opened;
    },
    /** Every error the client reports from now on. */
    errorsOf(c: RelayClient): Error[] {
      const errors: Error[] = [];
      c.on('error', (error) => errors.push(error));
      return errors;
    },
    /** Every refresh notice the client gives from now on. */
    refreshesOf(c: RelayClient): RefreshNotice[] {
      const refreshes: RefreshNotice[] = [];
      c.on('refresh', (notice) => refreshes.push(notice));
      return refreshes;
    },
    /** Opens the current socket and confirms `channels` (without heads). */
    accept(channels: string[]): FakeSocket {
      const socket = harness.network().last();
      socket.open();
      socket.frame({ type: 'subscribed', channels });
      return socket;
    },
    /** Opens the current socket and confirms each channel at its head `[seq, epoch]`. */
    acceptHeads(heads: Record<string, [number, string]>): FakeSocket {
      const socket = harness.network().last();
      socket.open();
      socket.frame({
        type: 'subscribed',
        channels: Object.keys(heads),
        heads: Object.entries(heads).map(([channel, [seq, epoch]]) => ({ channel, seq, epoch })),
      });
      return socket;
    },
  };
  return harness;
}
