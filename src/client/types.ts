/** Public types of the client SDK. */
import type { Envelope } from '../core/envelope.js';
import type { RefreshReason } from '../core/protocol.js';
import type { SocketFactory } from './socket.js';

export type { Envelope };

/** `connecting` (first attempt), `open` (socket open), `reconnecting` (after a drop), `closed` (after `close()`). */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export type EventData = Record<string, unknown>;

// Method syntax makes the parameter bivariant, so a handler typed for one channel's `TData` can be
// kept beside the others; `TData` is the app's statement about its channel (check it with `parse`).
type Bivariant<TArg> = { bivarianceHack(arg: TArg): void }['bivarianceHack'];

/** Receives one channel's events, each once, in the channel's order. */
export type EventHandler<TData extends EventData = EventData> = Bivariant<Envelope<TData>>;

/**
 * Why the app must reload a channel's state: the server's reasons, plus `resume_failed` when the
 * client could not finish a resume (an `error` frame or no `resumed` frame in time).
 */
export type RefreshNotice = {
  readonly channel: string;
  readonly reason: RefreshReason | 'resume_failed';
  readonly eventId?: string;
};

export interface ClientEvents {
  state: ConnectionState;
  refresh: RefreshNotice;
  error: Error;
}

export type TokenSource = { readonly token: string } | { readonly getToken: () => string | Promise<string> };

export type ConnectOptions = TokenSource & {
  /** The WebSocket URL (`wss://…/prod` or the offline runtime's `ws://127.0.0.1:…`); the token goes in `?token=`. */
  readonly url: string;
  /** Back-off before reconnecting: full jitter below `min(maxMs, baseMs·2^attempt)`. @default { baseMs: 500, maxMs: 30_000 } */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Keep-alive `ping` interval; API Gateway cuts connections idle for 10 minutes. @default 300_000 */
  readonly pingIntervalMs?: number;
  /** A connection that answers a ping with nothing for this long is treated as dead and replaced. @default 30_000 */
  readonly pongTimeoutMs?: number;
  /** How long to wait for a `resumed` frame before telling the app to refresh. @default 30_000 */
  readonly resumeTimeoutMs?: number;
  /**
   * How often a resume answered with `refresh: unknown_since` is asked again (after 1 s, 2 s, …)
   * before the app is told to refresh: the audit log records an event a moment after it is
   * delivered live, so a fresh `since` can be briefly unknown. @default 3
   */
  readonly resumeRetries?: number;
  /** Event ids remembered per channel for de-duplication. @default 1000 */
  readonly dedupeWindow?: number;
  /** Replaces the transport (tests, custom WebSocket implementations). */
  readonly socketFactory?: SocketFactory;
  /** Random source for the jitter (tests). @default Math.random */
  readonly random?: () => number;
};

export interface SubscribeOptions<TData extends EventData> {
  /** Resume from this event id (one the app already processed) instead of starting with live events. */
  readonly since?: string;
  /** Checks or converts `data` before the handler sees it (e.g. a zod schema's `parse`); a throw is reported as an error. */
  readonly parse?: (data: EventData) => TData;
}

export interface Subscription {
  readonly channel: string;
  /** Removes this handler; the channel is unsubscribed when its last handler goes. */
  remove(): void;
}

export interface RelayClient {
  readonly state: ConnectionState;
  subscribe<TData extends EventData = EventData>(
    channel: string,
    handler: EventHandler<TData>,
    options?: SubscribeOptions<TData>,
  ): Subscription;
  /** Removes every handler of the channel and tells the server. */
  unsubscribe(channel: string): void;
  on<TName extends keyof ClientEvents>(
    name: TName,
    listener: (value: ClientEvents[TName]) => void,
  ): () => void;
  /** Resolves when the socket is open and every subscription is confirmed and caught up; rejects after `close()`. */
  ready(): Promise<void>;
  /** Closes the socket, stops reconnecting and clears every timer. */
  close(): void;
}
