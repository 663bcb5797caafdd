/** Fakes for the client SDK's unit tests: a hand-driven socket, a network of them, envelopes. */
import { vi } from 'vitest';
import type { ClientSocket, Envelope, Lifecycle, SocketCallbacks } from '../../src/client/index.js';
import type { WireFrame, WireMessage } from '../../src/client/wire.js';
import { envelopeFactory } from '../helpers/envelopes.js';

/** A socket the test drives by hand: it records what the client sends. */
export class FakeSocket implements ClientSocket {
  readonly sent: WireMessage[] = [];
  closedByClient = false;
  constructor(
    readonly url: string,
    private readonly callbacks: SocketCallbacks,
  ) {}
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {
    this.closedByClient = true;
  }
  open(): void {
    this.callbacks.onOpen();
  }
  frame(frame: WireFrame | string): void {
    this.callbacks.onMessage(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }
  drop(code = 1006, status?: number): void {
    this.callbacks.onClose(code, '', status);
  }
  actions(): string[] {
    return this.sent.map((message) => message.action);
  }
  /** The messages of one action, in order. */
  messages<TAction extends WireMessage['action']>(
    action: TAction,
  ): Extract<WireMessage, { action: TAction }>[] {
    return this.sent.filter(
      (message): message is Extract<WireMessage, { action: TAction }> => message.action === action,
    );
  }
}

export function fakeNetwork() {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (url: string, callbacks: SocketCallbacks) => {
      const socket = new FakeSocket(url, callbacks);
      sockets.push(socket);
      return socket;
    },
    last(): FakeSocket {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was opened');
      return socket;
    },
  };
}

/** A host whose online state and wake-up hints the test controls. */
export function fakeLifecycle() {
  const wakers = new Set<() => void>();
  const state = { isOnline: true };
  const lifecycle: Lifecycle = {
    online: () => state.isOnline,
    listen(wake) {
      wakers.add(wake);
      return () => wakers.delete(wake);
    },
  };
  const host = {
    state,
    lifecycle,
    wake(): void {
      for (const wake of wakers) wake();
    },
    get listeners(): number {
      return wakers.size;
    },
  };
  return host;
}

const BASE_TIME = Date.parse('2026-11-01T10:00:00.000Z');

/** Event `n` of a channel: one second apart, or `stepMs` apart. */
export function envelope(n: number, channel = 'orders', stepMs = 1000): Envelope {
  return envelopeFactory({
    id: `${channel}-${String(n).padStart(4, '0')}`,
    at: BASE_TIME + n * stepMs,
    channel,
    resourceId: `order-${n}`,
    data: { n },
  });
}

/** Event `seq` of a channel's sequence (epoch `e1` unless told). */
export function sequenced(seq: number, channel = 'orders', epoch = 'e1'): Envelope {
  return { ...envelope(seq, channel), seq, epoch };
}

/** Lets the client's async connect step (token, factory) run. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}
