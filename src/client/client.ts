/**
 * The client: one WebSocket at a time, replaced after every drop. On each (re)connect it asks for
 * a fresh token, subscribes every channel, and once the server confirms a channel it resumes it
 * from the last event it delivered; events arriving meanwhile are held until the channel's
 * `resumed` frame, then delivered with the replayed ones in position order, without duplicates.
 */
import type { Envelope } from '../core/envelope.js';
import type { ClientMessage, ServerFrame } from '../core/protocol.js';
import { type BackoffOptions, backoffDelayMs } from './backoff.js';
import { ChannelState } from './channelState.js';
import {
  ClientClosedError,
  ConnectionError,
  HandlerError,
  MalformedFrameError,
  ServerError,
  TokenError,
} from './errors.js';
import { parseServerFrame } from './frames.js';
import {
  type ClientSocket,
  defaultSocketFactory,
  type SocketCallbacks,
  type SocketFactory,
} from './socket.js';
import type {
  ClientEvents,
  ConnectionState,
  ConnectOptions,
  EventData,
  EventHandler,
  RefreshNotice,
  RelayClient,
  SubscribeOptions,
  Subscription,
} from './types.js';

/** The protocol accepts at most 100 channels per subscribe/unsubscribe/resume message. */
const MAX_CHANNELS_PER_MESSAGE = 100;
/** API Gateway's idle timeout is 10 minutes; a ping every 5 keeps a quiet connection alive. */
export const DEFAULT_PING_INTERVAL_MS = 5 * 60 * 1000;
export const DEFAULT_PONG_TIMEOUT_MS = 30_000;
export const DEFAULT_RESUME_TIMEOUT_MS = 30_000;
export const DEFAULT_DEDUPE_WINDOW = 1000;
export const DEFAULT_RESUME_RETRIES = 3;
const RESUME_RETRY_STEP_MS = 1000;
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

type Timer = ReturnType<typeof setTimeout>;
type Listeners = { [TName in keyof ClientEvents]: Set<(value: ClientEvents[TName]) => void> };

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

function withToken(url: string, token: string): string {
  const target = new URL(url);
  target.searchParams.set('token', token);
  return target.toString();
}

export class OutboxRelayClient implements RelayClient {
  private currentState: ConnectionState = 'connecting';
  private socket: ClientSocket | undefined;
  private socketOpen = false;
  /** Bumped for every socket; callbacks of an older socket are ignored. */
  private generation = 0;
  private attempt = 0;
  private closed = false;
  private reconnectAfterMs: number | undefined;
  private reconnectTimer: Timer | undefined;
  private pingTimer: Timer | undefined;
  private pongTimer: Timer | undefined;
  private pingCount = 0;
  private readonly resumeTimers = new Map<string, Timer>();
  private readonly channels = new Map<string, ChannelState>();
  private readonly listeners: Listeners = { state: new Set(), refresh: new Set(), error: new Set() };
  private readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly getToken: () => string | Promise<string>;
  private readonly backoff: BackoffOptions;
  private readonly socketFactory: SocketFactory;
  private readonly random: () => number;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly resumeTimeoutMs: number;
  private readonly dedupeWindow: number;
  private readonly resumeRetries: number;

  constructor(private readonly options: ConnectOptions) {
    this.getToken = 'getToken' in options ? options.getToken : () => options.token;
    this.backoff = {
      baseMs: options.backoff?.baseMs ?? DEFAULT_BACKOFF.baseMs,
      maxMs: options.backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    };
    this.socketFactory = options.socketFactory ?? defaultSocketFactory;
    this.random = options.random ?? Math.random;
    this.pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.pongTimeoutMs = options.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS;
    this.resumeTimeoutMs = options.resumeTimeoutMs ?? DEFAULT_RESUME_TIMEOUT_MS;
    this.dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    this.resumeRetries = options.resumeRetries ?? DEFAULT_RESUME_RETRIES;
    new URL(options.url); // fail fast on a malformed URL, before any timer exists
    void this.openSocket();
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  subscribe<TData extends EventData = EventData>(
    channel: string,
    handler: EventHandler<TData>,
    options: SubscribeOptions<TData> = {},
  ): Subscription {
    if (this.closed) throw new ClientClosedError();
    const { parse } = options;
    // Without `parse`, `TData` is the app's word for the channel's payload (bivariant handler type).
    const unchecked: EventHandler = handler;
    const listener = (event: Envelope): void => {
      if (parse) handler({ ...event, data: parse(event.data) });
      else unchecked(event);
    };
    let state = this.channels.get(channel);
    if (!state) {
      state = new ChannelState(channel, this.dedupeWindow, options.since);
      this.channels.set(channel, state);
      if (this.socketOpen) {
        state.beginResume();
        this.send({ action: 'subscribe', channels: [channel] });
      }
    }
    state.listeners.add(listener);
    const owner = state;
    return {
      channel,
      remove: () => {
        owner.listeners.delete(listener);
        if (owner.listeners.size === 0 && this.channels.get(channel) === owner) this.unsubscribe(channel);
      },
    };
  }

  unsubscribe(channel: string): void {
    if (!this.channels.delete(channel)) return;
    this.clearResumeTimer(channel);
    if (this.socketOpen) this.send({ action: 'unsubscribe', channels: [channel] });
    this.settle();
  }

  on<TName extends keyof ClientEvents>(
    name: TName,
    listener: (value: ClientEvents[TName]) => void,
  ): () => void {
    const set: Set<(value: ClientEvents[TName]) => void> = this.listeners[name];
    set.add(listener);
    return () => set.delete(listener);
  }

  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation += 1;
    this.clearConnectionTimers();
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const state of this.channels.values()) state.abandonResume();
    const socket = this.socket;
    this.socket = undefined;
    this.socketOpen = false;
    socket?.close(1000, 'client closed');
    this.setState('closed');
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.reject(new ClientClosedError());
  }

  // ── connection lifecycle ────────────────────────────────────────────────

  private isCurrent(generation: number): boolean {
    return !this.closed && generation === this.generation;
  }

  private async openSocket(): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    let token: string;
    try {
      token = await this.getToken();
      if (typeof token !== 'string' || token === '') throw new TokenError('getToken returned an empty token');
    } catch (error) {
      if (!this.isCurrent(generation)) return;
      this.emit(
        'error',
        error instanceof TokenError ? error : new TokenError('getToken failed', { cause: error }),
      );
      this.scheduleReconnect();
      return;
    }
    if (!this.isCurrent(generation)) return;
    const callbacks: SocketCallbacks = {
      onOpen: () => {
        if (this.isCurrent(generation)) this.handleOpen();
      },
      onMessage: (text) => {
        if (this.isCurrent(generation)) this.handleMessage(text);
      },
      onClose: (code, reason) => {
        if (this.isCurrent(generation)) this.handleSocketGone(code, reason);
      },
      onError: (error) => {
        if (this.isCurrent(generation)) this.emit('error', error);
      },
    };
    try {
      const socket = await this.socketFactory(withToken(this.options.url, token), callbacks);
      if (this.isCurrent(generation)) this.socket = socket;
      else socket.close(1000, 'superseded');
    } catch (error) {
      if (!this.isCurrent(generation)) return;
      this.emit('error', new ConnectionError('Could not open the WebSocket', { cause: error }));
      this.scheduleReconnect();
    }
  }

  private handleOpen(): void {
    this.socketOpen = true;
    const channels = [...this.channels.values()];
    for (const state of channels) {
      state.status = 'pending';
      // Held from now: live events may arrive before the resume's replay.
      state.beginResume();
    }
    this.setState('open');
    for (const group of chunks(
      channels.map((state) => state.channel),
      MAX_CHANNELS_PER_MESSAGE,
    )) {
      this.send({ action: 'subscribe', channels: group });
    }
    this.schedulePing();
    this.settle();
  }

  /** The socket closed (or was given up on): clean up and, unless closed by the app, reconnect. */
  private handleSocketGone(code: number, reason: string): void {
    this.generation += 1;
    const socket = this.socket;
    this.socket = undefined;
    this.socketOpen = false;
    socket?.close(1000, 'replaced');
    this.clearConnectionTimers();
    for (const state of this.channels.values()) {
      state.abandonResume();
      state.status = 'pending';
    }
    if (code !== 1000 || reason !== '')
      this.emit('error', new ConnectionError(`Connection closed (${code} ${reason})`));
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    if (this.currentState === 'open') this.setState('reconnecting');
    const jitter = backoffDelayMs(this.attempt, this.backoff, this.random);
    // A `close` frame names when to come back; jitter on top spreads the clients it went to.
    const delay = this.reconnectAfterMs !== undefined ? this.reconnectAfterMs + jitter : jitter;
    this.reconnectAfterMs = undefined;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.openSocket();
    }, delay);
  }

  private clearConnectionTimers(): void {
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
    this.pingTimer = undefined;
    this.pongTimer = undefined;
    for (const timer of this.resumeTimers.values()) clearTimeout(timer);
    this.resumeTimers.clear();
  }

  private schedulePing(): void {
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      if (!this.socketOpen) return;
      this.pingCount += 1;
      this.send({ action: 'ping', id: String(this.pingCount) });
      this.pongTimer ??= setTimeout(() => {
        this.pongTimer = undefined;
        // A half-open TCP connection can take minutes to report its close: give up on it now.
        this.emit('error', new ConnectionError(`No answer to a ping within ${this.pongTimeoutMs} ms`));
        this.handleSocketGone(4000, 'ping timeout');
      }, this.pongTimeoutMs);
      this.schedulePing();
    }, this.pingIntervalMs);
  }

  private send(message: ClientMessage): void {
    if (!this.socket || !this.socketOpen) return;
    try {
      this.socket.send(JSON.stringify(message));
    } catch (error) {
      this.emit('error', new ConnectionError('Could not send on the WebSocket', { cause: error }));
    }
  }

  // ── frames ───────────────────────────────────────────────────────────────

  private handleMessage(text: string): void {
    // Any frame proves the connection is alive.
    if (this.pongTimer !== undefined) clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    const frame = parseServerFrame(text);
    if (!frame) {
      this.emit('error', new MalformedFrameError(text));
      return;
    }
    this.handleFrame(frame);
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'event':
        this.receive([frame.event]);
        return;
      case 'events':
        this.receive(frame.events);
        return;
      case 'subscribed':
        this.confirm(frame.channels);
        return;
      case 'unsubscribed':
      case 'pong':
        return;
      case 'resumed':
        this.finishResume(frame.channel);
        return;
      case 'refresh':
        if (frame.reason === 'unknown_since' && this.retryResume(frame.channel)) return;
        // After these reasons no replay follows; a too-large payload is one event, not the resume.
        if (frame.reason !== 'payload_too_large') this.finishResume(frame.channel);
        this.emit(
          'refresh',
          frame.eventId === undefined
            ? { channel: frame.channel, reason: frame.reason }
            : { channel: frame.channel, reason: frame.reason, eventId: frame.eventId },
        );
        return;
      case 'close':
        this.reconnectAfterMs = frame.reconnectAfterMs;
        this.handleSocketGone(1000, frame.reason);
        return;
      case 'error':
        this.handleServerError(frame.code, frame.message, frame.action);
        return;
    }
  }

  private receive(events: readonly Envelope[]): void {
    for (const event of events) {
      const state = this.channels.get(event.channel);
      if (state) this.deliver(state, state.accept(event));
    }
  }

  private confirm(channels: readonly string[]): void {
    const resumes: { channel: string; since: string }[] = [];
    for (const channel of channels) {
      const state = this.channels.get(channel);
      if (!state || state.status === 'confirmed') continue;
      state.status = 'confirmed';
      // A channel that delivered nothing yet (and had no `since`) has nothing to resume from.
      if (!state.resuming || state.lastId === undefined) continue;
      resumes.push({ channel, since: state.lastId });
      this.startResumeTimer(channel);
    }
    // The subscription exists before the replay is read, so no event falls between the two.
    for (const group of chunks(resumes, MAX_CHANNELS_PER_MESSAGE))
      this.send({ action: 'resume', channels: group });
    this.attempt = 0;
    this.settle();
  }

  private startResumeTimer(channel: string): void {
    this.clearResumeTimer(channel);
    this.resumeTimers.set(
      channel,
      setTimeout(() => {
        this.resumeTimers.delete(channel);
        this.failResume(channel);
      }, this.resumeTimeoutMs),
    );
  }

  /** Asks for the replay again a little later; false when the retries are used up. */
  private retryResume(channel: string): boolean {
    const state = this.channels.get(channel);
    if (!state?.resuming || state.status !== 'confirmed' || state.resumeRetries >= this.resumeRetries)
      return false;
    state.resumeRetries += 1;
    this.clearResumeTimer(channel);
    this.resumeTimers.set(
      channel,
      setTimeout(() => {
        this.resumeTimers.delete(channel);
        if (!state.resuming || state.lastId === undefined || this.channels.get(channel) !== state) return;
        this.send({ action: 'resume', channels: [{ channel, since: state.lastId }] });
        this.startResumeTimer(channel);
      }, RESUME_RETRY_STEP_MS * state.resumeRetries),
    );
    return true;
  }

  private clearResumeTimer(channel: string): void {
    const timer = this.resumeTimers.get(channel);
    if (timer !== undefined) clearTimeout(timer);
    this.resumeTimers.delete(channel);
  }

  private finishResume(channel: string): void {
    const state = this.channels.get(channel);
    if (!state?.resuming) return;
    this.clearResumeTimer(channel);
    this.deliver(state, state.endResume());
    this.settle();
  }

  /** The replay did not complete: deliver what arrived and tell the app to reload the channel. */
  private failResume(channel: string): void {
    const state = this.channels.get(channel);
    if (!state?.resuming) return;
    this.finishResume(channel);
    this.emit('refresh', { channel, reason: 'resume_failed' });
  }

  private handleServerError(code: string, message: string, action: string | undefined): void {
    this.emit('error', new ServerError(code, message, action));
    if (action === 'subscribe') {
      for (const state of this.channels.values()) if (state.status === 'pending') state.status = 'refused';
      this.settle();
    } else if (action === 'resume') {
      for (const state of [...this.channels.values()]) {
        if (state.status === 'confirmed' && state.resuming) this.failResume(state.channel);
      }
    }
  }

  private deliver(state: ChannelState, events: readonly Envelope[]): void {
    for (const event of events) {
      for (const listener of [...state.listeners]) {
        try {
          listener(event);
        } catch (error) {
          this.emit('error', new HandlerError(state.channel, event.id, { cause: error }));
        }
      }
    }
  }

  // ── state and listeners ──────────────────────────────────────────────────

  private isSettled(): boolean {
    if (!this.socketOpen) return false;
    for (const state of this.channels.values()) {
      if (state.status === 'pending' || (state.status === 'confirmed' && state.resuming)) return false;
    }
    return true;
  }

  private settle(): void {
    if (!this.isSettled() || this.readyWaiters.length === 0) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private setState(next: ConnectionState): void {
    if (this.currentState === next) return;
    this.currentState = next;
    this.emit('state', next);
  }

  private emit<TName extends keyof ClientEvents>(name: TName, value: ClientEvents[TName]): void {
    const set: Set<(value: ClientEvents[TName]) => void> = this.listeners[name];
    for (const listener of [...set]) {
      try {
        listener(value);
      } catch {
        // A throwing listener must not break the connection logic; there is nowhere left to report it.
      }
    }
  }
}

export type { RefreshNotice };
