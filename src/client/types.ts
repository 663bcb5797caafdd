/** Public types of the client SDK. */
import type { ChannelPosition } from './channelState.js';
import type { Lifecycle } from './lifecycle.js';
import type { SocketFactory } from './socket.js';
import type { WireEnvelope, WireRefreshReason } from './wire.js';

/** An event as delivered: the envelope, with `seq` and `epoch` from servers that number events. */
export type Envelope<TData extends EventData = EventData> = WireEnvelope<TData>;
export type { ChannelPosition };

/**
 * `connecting` (first attempt) → `open` (socket open) → `reconnecting` (after a drop, until open
 * again); `disconnected` after `disconnect()`, `failed` when the server refused the credentials
 * (or a 44xx close code), `closed` after `close()` (final). `connect()` leaves `disconnected`/`failed`.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'disconnected' | 'failed' | 'closed';

export type EventData = Record<string, unknown>;

// Method syntax makes the parameter bivariant, so a handler typed for one channel's `TData` can be
// kept beside the others; `TData` is the app's statement about its channel (check it with `parse`).
type Bivariant<TArg> = { bivarianceHack(arg: TArg): void }['bivarianceHack'];

/** Receives one channel's events, each once, in the channel's order. */
export type EventHandler<TData extends EventData = EventData> = Bivariant<Envelope<TData>>;

/**
 * Why the app must reload a channel's state: the server's reasons, plus `resume_failed` when the
 * client could not finish a resume or fill a gap (an `error` frame, or no answer in time).
 */
export type RefreshNotice = {
  readonly channel: string;
  readonly reason: WireRefreshReason | 'resume_failed';
  readonly eventId?: string;
};

export interface ClientEvents {
  state: ConnectionState;
  refresh: RefreshNotice;
  error: Error;
}

/** `getToken` is called before every attempt; returning `null` (or throwing an `AuthError`) stops: state `failed`. */
export type TokenSource =
  | { readonly token: string }
  | { readonly getToken: () => string | null | Promise<string | null> };

export type ConnectOptions = TokenSource & {
  /** The WebSocket URL (`wss://…/prod` or the offline runtime's `ws://127.0.0.1:…`); the token goes in `?token=`. */
  readonly url: string;
  /** Back-off before reconnecting: full jitter below `min(maxMs, baseMs·2^attempt)`. @default { baseMs: 500, maxMs: 30_000 } */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** One deadline for `getToken`, the upgrade and the first confirmation; then the attempt is abandoned. @default 20_000 */
  readonly connectTimeoutMs?: number;
  /** The back-off starts over only once a connection has stayed up this long. @default 30_000 */
  readonly stableAfterMs?: number;
  /** Refusals (401/403, 1008) in a row before a static `token` ends in `failed`. @default 3 */
  readonly maxAuthFailures?: number;
  /** A connection is replaced (and every channel resumed) after this long, before API Gateway's 2-hour cut. @default 6_900_000 */
  readonly maxConnectionMs?: number;
  /** `ping` interval: keeps API Gateway's 10-minute idle cut away and proves the link alive. @default 25_000 */
  readonly pingIntervalMs?: number;
  /** A connection that answers a ping with nothing for this long is treated as dead and replaced. @default 10_000 */
  readonly pongTimeoutMs?: number;
  /** How long to wait for a `resumed` (or `fetched`) frame before telling the app to refresh. @default 30_000 */
  readonly resumeTimeoutMs?: number;
  /** How long an event after a gap waits for the missing ones before the client fetches them. @default 1000 */
  readonly gapWaitMs?: number;
  /** Events held per channel (during a resume, or waiting behind a gap). @default 2500 */
  readonly maxHeldEvents?: number;
  /**
   * How often a resume answered with `refresh: unknown_since` is asked again (after 1 s, 2 s, …)
   * before the app is told to refresh: the audit log records an event a moment after it is
   * delivered live, so a fresh `since` can be briefly unknown. @default 3
   */
  readonly resumeRetries?: number;
  /** Events without `seq`: at most this many ids remembered per channel. @default 10_000 */
  readonly dedupeWindow?: number;
  /** Events without `seq`: ids are remembered for this span of event time (the resume overlap and more). @default 10_000 */
  readonly dedupeWindowMs?: number;
  /**
   * Send receipts: after the handlers of an event return (none threw), its id is acknowledged to
   * the server, which records it per subject as `received` (docs/audit.md). Ids are batched: one
   * `ack` message a second at most, or at once when 100 are waiting. @default false
   */
  readonly receipts?: boolean;
  /** Browser hooks (online, visibility, back/forward cache); replaceable for tests. */
  readonly lifecycle?: Lifecycle;
  /** Replaces the transport (tests, custom WebSocket implementations). */
  readonly socketFactory?: SocketFactory;
  /** Random source for the jitter (tests). @default Math.random */
  readonly random?: () => number;
};

export interface SubscribeOptions<TData extends EventData> {
  /** Resume from this event id (one the app already processed) instead of starting with live events. */
  readonly since?: string;
  /** Resume from a saved `subscription.position` (`seq`/`epoch` win over `id` on servers with sequences). */
  readonly position?: ChannelPosition;
  /** Checks or converts `data` before the handler sees it (e.g. a zod schema's `parse`); a throw is reported as an error. */
  readonly parse?: (data: EventData) => TData;
}

export interface Subscription {
  readonly channel: string;
  /** Where the channel stands now: save it to resume from it later (`{ position }`). */
  readonly position: ChannelPosition;
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
  /**
   * The channel's events as an async iterator (`for await`); `break` or `return()` unsubscribes it.
   * Events queue until read.
   */
  stream<TData extends EventData = EventData>(
    channel: string,
    options?: SubscribeOptions<TData>,
  ): AsyncIterableIterator<Envelope<TData>>;
  /** Removes every handler of the channel and tells the server. */
  unsubscribe(channel: string): void;
  on<TName extends keyof ClientEvents>(
    name: TName,
    listener: (value: ClientEvents[TName]) => void,
  ): () => void;
  /**
   * Resolves when the socket is open and every subscription is confirmed (or refused by the
   * server's policy) and caught up; rejects on `failed`, `disconnect()` and `close()`.
   */
  ready(): Promise<void>;
  /** Closes the socket and stops reconnecting, keeping subscriptions and positions for `connect()`. */
  disconnect(): void;
  /** Connects again after `disconnect()` or `failed`, resuming every channel from its position. */
  connect(): void;
  /** Closes the socket, stops reconnecting and clears every timer; final. */
  close(): void;
}
