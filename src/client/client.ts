/**
 * The client: one WebSocket at a time, replaced after every drop. Each attempt asks for a fresh
 * token and must reach its first confirmation within `connectTimeoutMs`. Once the server confirms
 * a channel the client resumes it from its position (the `seq` it reached, or the last event id
 * on servers without sequences); events are delivered per channel in `seq` order, each once, and
 * a gap that the stream does not fill soon is fetched. The state machine, timeouts and close-code
 * policy are described in docs/client.md.
 */
import { type BackoffOptions, backoffDelayMs } from './backoff.js';
import { type ChannelPosition, ChannelState } from './channelState.js';
import { closeAction } from './closePolicy.js';
import {
  AuthError,
  ClientClosedError,
  ConnectionError,
  HandlerError,
  MalformedFrameError,
  ServerError,
  TokenError,
} from './errors.js';
import { parseServerFrame } from './frames.js';
import { hostLifecycle, type Lifecycle } from './lifecycle.js';
import { ACK_MAX_IDS } from './protocolValues.js';
import { type ClientSocket, defaultSocketFactory, type SocketFactory } from './socket.js';
import type {
  ClientEvents,
  ConnectionState,
  ConnectOptions,
  Envelope,
  EventData,
  EventHandler,
  RefreshNotice,
  RelayClient,
  SubscribeOptions,
  Subscription,
} from './types.js';
import type { Head, WireEnvelope, WireFrame, WireMessage } from './wire.js';

/** The protocol accepts at most 100 channels per subscribe/unsubscribe/resume message. */
const MAX_CHANNELS_PER_MESSAGE = 100;
const RETRY_STEP_MS = 1000;
/** The pause between two receipts messages (a full one goes at once). */
const ACK_INTERVAL_MS = 1000;
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** Every timing and limit option's default (docs/client.md explains each). */
export const CLIENT_DEFAULTS = {
  connectTimeoutMs: 20_000,
  stableAfterMs: 30_000,
  maxAuthFailures: 3,
  /** API Gateway cuts a connection at 2 hours; replacing it at 1 h 55 min resumes without a gap. */
  maxConnectionMs: 115 * 60 * 1000,
  /** Below API Gateway's 10-minute idle cut; with the pong timeout a dead link is found within 35 s. */
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  resumeTimeoutMs: 30_000,
  resumeRetries: 3,
  gapWaitMs: 1000,
  /** A server replay holds at most about 2,000 events (its limit and overlap); live ones come on top. */
  maxHeldEvents: 2500,
  dedupeWindow: 10_000,
  /** Five times the server's default resume overlap (2 s). */
  dedupeWindowMs: 10_000,
};
type Settings = typeof CLIENT_DEFAULTS;

type Timer = ReturnType<typeof setTimeout>;
type TimerName = 'reconnect' | 'connect' | 'ping' | 'pong' | 'stable' | 'age' | 'ack';
type Listeners = { [TName in keyof ClientEvents]: Set<(value: ClientEvents[TName]) => void> };
type Halt = 'disconnected' | 'failed' | 'closed';

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
  #currentState: ConnectionState = 'connecting';
  #socket: ClientSocket | undefined;
  #socketOpen = false;
  /** Bumped for every attempt; callbacks of an older one are ignored. */
  #generation = 0;
  #attempt = 0;
  #authFailures = 0;
  #halted: Halt | undefined;
  #failure: Error | undefined;
  #reconnectAfterMs: number | undefined;
  /** Running timers by name; `teardown` clears every name set so far. */
  readonly #timers: Partial<Record<TimerName, Timer>> = {};
  /** Requests awaiting their answer, oldest first: an `error` frame belongs to the oldest of its action. */
  #inflight: { action: string; channels: string[] }[] = [];
  /** Receipts not yet sent (`receipts: true`). */
  #acks: string[] = [];
  readonly #channels = new Map<string, ChannelState>();
  readonly #listeners: Listeners = { state: new Set(), refresh: new Set(), error: new Set() };
  #readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly #getToken: () => string | null | Promise<string | null>;
  readonly #staticToken: boolean;
  readonly #backoff: BackoffOptions;
  readonly #socketFactory: SocketFactory;
  readonly #random: () => number;
  readonly #lifecycle: Lifecycle;
  readonly #unlisten: () => void;
  readonly #o: Settings;

  constructor(private readonly options: ConnectOptions) {
    this.#staticToken = !('getToken' in options);
    this.#getToken = 'getToken' in options ? options.getToken : () => options.token;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#socketFactory = options.socketFactory ?? defaultSocketFactory;
    this.#random = options.random ?? Math.random;
    const o: Settings = { ...CLIENT_DEFAULTS };
    for (const key of Object.keys(o) as (keyof Settings)[]) o[key] = options[key] ?? o[key];
    this.#o = o;
    new URL(options.url); // fail fast on a malformed URL, before any timer exists
    this.#lifecycle = options.lifecycle ?? hostLifecycle();
    this.#unlisten = this.#lifecycle.listen(() => this.#wake());
    // After the caller's own statements, so listeners added right after connect() hear everything.
    void Promise.resolve().then(() => this.#openSocket());
  }

  get state(): ConnectionState {
    return this.#currentState;
  }

  subscribe<TData extends EventData = EventData>(
    channel: string,
    handler: EventHandler<TData>,
    options: SubscribeOptions<TData> = {},
  ): Subscription {
    if (this.#halted === 'closed') throw new ClientClosedError();
    const { parse } = options;
    // Without `parse`, `TData` is the app's word for the channel's payload (bivariant handler type).
    const unchecked: EventHandler = handler;
    const listener = (event: WireEnvelope): void => {
      if (parse) handler({ ...event, data: parse(event.data) });
      else unchecked(event);
    };
    let state = this.#channels.get(channel);
    if (!state) {
      const o = this.#o;
      state = new ChannelState(
        channel,
        o.maxHeldEvents,
        o.dedupeWindow,
        o.dedupeWindowMs,
        options.position ?? { id: options.since },
      );
      this.#channels.set(channel, state);
      if (this.#socketOpen) {
        state.beginResume();
        this.#subscribeChannels([channel]);
      }
    }
    state.listeners.add(listener);
    const owner = state;
    return {
      channel,
      get position(): ChannelPosition {
        return owner.position;
      },
      remove: () => {
        owner.listeners.delete(listener);
        if (owner.listeners.size === 0 && this.#channels.get(channel) === owner) this.unsubscribe(channel);
      },
    };
  }

  stream<TData extends EventData = EventData>(
    channel: string,
    options?: SubscribeOptions<TData>,
  ): AsyncIterableIterator<Envelope<TData>> {
    const queue: Envelope<TData>[] = [];
    let waiting: ((result: IteratorResult<Envelope<TData>>) => void) | undefined;
    let done = false;
    const subscription = this.subscribe<TData>(
      channel,
      (event) => {
        if (waiting) waiting({ value: event, done: false });
        else queue.push(event);
        waiting = undefined;
      },
      options,
    );
    const end = (): Promise<IteratorResult<Envelope<TData>>> => {
      done = true;
      stopOnClose();
      subscription.remove();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
      return Promise.resolve({ value: undefined, done: true });
    };
    const stopOnClose = this.on('state', (state) => {
      if (state === 'closed') void end();
    });
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => {
        const value = queue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: end,
    };
  }

  unsubscribe(channel: string): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    this.#channels.delete(channel);
    state.abandonResume();
    if (this.#socketOpen) this.#send({ action: 'unsubscribe', channels: [channel] });
    this.#settle();
  }

  on<TName extends keyof ClientEvents>(
    name: TName,
    listener: (value: ClientEvents[TName]) => void,
  ): () => void {
    const set: Set<(value: ClientEvents[TName]) => void> = this.#listeners[name];
    set.add(listener);
    return () => set.delete(listener);
  }

  ready(): Promise<void> {
    if (this.#halted) return Promise.reject(this.#haltError());
    if (this.#isSettled()) return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  disconnect(): void {
    this.#halt('disconnected');
  }

  connect(): void {
    if (this.#halted === 'closed') throw new ClientClosedError();
    if (!this.#halted) return;
    this.#halted = this.#failure = undefined;
    this.#attempt = this.#authFailures = 0;
    this.#setState('connecting');
    void this.#openSocket();
  }

  close(): void {
    this.#halt('closed');
    this.#unlisten();
  }

  // ── connection lifecycle ────────────────────────────────────────────────

  #haltError(): Error {
    return this.#halted === 'closed'
      ? new ClientClosedError()
      : (this.#failure ?? new ConnectionError('Disconnected; call connect()'));
  }

  /** Stops for good (`closed`), until `connect()` (`disconnected`, `failed`). */
  #halt(why: Halt, failure?: Error): void {
    if (this.#halted === 'closed') return;
    this.#halted = why;
    this.#failure = failure;
    this.#teardown();
    this.#setState(why);
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.reject(this.#haltError());
  }

  #isCurrent(generation: number): boolean {
    return !this.#halted && generation === this.#generation;
  }

  async #openSocket(): Promise<void> {
    const generation = ++this.#generation;
    this.#clearTimer('reconnect');
    // Offline, an attempt can only fail: the host's `online` event starts the next one (the
    // timer only looks again, in case the host flips back without telling).
    if (!this.#lifecycle.online()) {
      this.#scheduleReconnect();
      return;
    }
    this.#timers.connect = setTimeout(() => {
      this.#emit('error', new ConnectionError(`No confirmation within ${this.#o.connectTimeoutMs} ms`));
      this.#drop(1000, ''); // reported above; 1000 + '' is not reported again
    }, this.#o.connectTimeoutMs);
    let token: string | null;
    try {
      token = await this.#getToken();
      if (token === null) throw new AuthError(undefined, 'getToken asked to stop');
      if (typeof token !== 'string' || token === '') throw new TokenError('Empty token');
    } catch (error) {
      if (!this.#isCurrent(generation)) return;
      if (error instanceof AuthError) return this.#halt('failed', error);
      this.#emit(
        'error',
        error instanceof TokenError ? error : new TokenError('getToken failed', { cause: error }),
      );
      return this.#drop(1000, '');
    }
    if (!this.#isCurrent(generation)) return;
    const live =
      <TArgs extends unknown[]>(fn: (...args: TArgs) => void) =>
      (...args: TArgs) => {
        if (this.#isCurrent(generation)) fn(...args);
      };
    try {
      const socket = await this.#socketFactory(withToken(this.options.url, token), {
        onOpen: live(() => this.#handleOpen()),
        onMessage: live((text: string) => this.#handleMessage(text)),
        onClose: live((code: number, reason: string, status?: number) => this.#drop(code, reason, status)),
        onError: live((error: Error) => this.#emit('error', error)),
      });
      if (this.#isCurrent(generation)) this.#socket = socket;
      else socket.close(1000, 'superseded');
    } catch (error) {
      if (!this.#isCurrent(generation)) return;
      this.#emit('error', new ConnectionError('Open failed', { cause: error }));
      this.#drop(1000, '');
    }
  }

  #handleOpen(): void {
    this.#socketOpen = true;
    this.#authFailures = 0;
    this.#inflight = [];
    const channels = [...this.#channels.values()];
    for (const state of channels) {
      state.status = 'pending';
      state.beginResume();
    }
    this.#setState('open');
    for (const group of chunks(
      channels.map((state) => state.channel),
      MAX_CHANNELS_PER_MESSAGE,
    )) {
      this.#subscribeChannels(group);
    }
    if (channels.length === 0) this.#confirmed();
    this.#timers.age = setTimeout(() => this.#drop(1000, '', undefined, true), this.#o.maxConnectionMs);
    this.#schedulePing();
    this.#scheduleAcks();
    this.#settle();
  }

  /** The first confirmation: the attempt succeeded; the back-off starts over once it has lasted. */
  #confirmed(): void {
    if (this.#timers.connect === undefined) return;
    this.#clearTimer('connect');
    this.#timers.stable = setTimeout(() => {
      this.#attempt = 0;
    }, this.#o.stableAfterMs);
  }

  /**
   * The socket closed or was given up on: clean up and decide by the close policy. `now`
   * reconnects without delay (the proactive replacement before the 2-hour cut).
   */
  #drop(code: number, reason: string, status?: number, now = false): void {
    if (this.#halted) return;
    this.#generation += 1;
    this.#teardown();
    const action = closeAction(code, status);
    const message = `Connection closed (${code} ${reason})`;
    if (action === 'stop') {
      this.#halt('failed', new ConnectionError(message));
      return;
    }
    if (action === 'auth') {
      const error = new AuthError(status ?? code);
      this.#emit('error', error);
      this.#authFailures += 1;
      if (this.#staticToken && this.#authFailures >= this.#o.maxAuthFailures) {
        this.#halt('failed', error);
        return;
      }
    } else if (code !== 1000 || reason !== '') {
      this.#emit('error', new ConnectionError(message));
    }
    if (this.#currentState !== 'connecting') this.#setState('reconnecting');
    if (now) void this.#openSocket();
    else this.#scheduleReconnect();
  }

  /** Closes the socket and clears every timer and per-connection state. */
  #teardown(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#socketOpen = false;
    socket?.close(1000, 'client closed');
    for (const name of Object.keys(this.#timers) as TimerName[]) this.#clearTimer(name);
    for (const state of this.#channels.values()) {
      state.abandonResume();
      state.status = 'pending';
    }
  }

  #clearTimer(name: TimerName): void {
    clearTimeout(this.#timers[name]);
    this.#timers[name] = undefined;
  }

  #scheduleReconnect(): void {
    if (this.#halted || this.#timers.reconnect !== undefined) return;
    const jitter = backoffDelayMs(this.#attempt, this.#backoff, this.#random);
    // A `close` frame names when to come back; jitter on top spreads the clients it went to.
    const delay = (this.#reconnectAfterMs ?? 0) + jitter;
    this.#reconnectAfterMs = undefined;
    this.#attempt += 1;
    this.#timers.reconnect = setTimeout(() => void this.#openSocket(), delay);
  }

  /** The host says now is a good time (online, visible, restored): check or reconnect at once. */
  #wake(): void {
    if (this.#halted || !this.#lifecycle.online()) return;
    this.#attempt = 0;
    if (this.#socketOpen) this.#ping();
    else if (this.#timers.connect === undefined) void this.#openSocket();
  }

  #schedulePing(): void {
    this.#timers.ping = setTimeout(() => {
      this.#ping();
      this.#schedulePing();
    }, this.#o.pingIntervalMs);
  }

  #ping(): void {
    this.#send({ action: 'ping' });
    this.#timers.pong ??= setTimeout(() => {
      // A half-open TCP connection can take minutes to report its close: give up on it now.
      this.#emit('error', new ConnectionError(`No answer to a ping within ${this.#o.pongTimeoutMs} ms`));
      this.#drop(1000, '');
    }, this.#o.pongTimeoutMs);
  }

  #send(message: WireMessage): void {
    if (!this.#socket || !this.#socketOpen) return;
    try {
      this.#socket.send(JSON.stringify(message));
    } catch (error) {
      this.#emit('error', new ConnectionError('Send failed', { cause: error }));
    }
  }

  /**
   * Subscribes; a channel still unconfirmed after `resumeTimeoutMs` is asked again (API Gateway
   * answers a failed route with a frame outside the protocol, which names no request).
   */
  #subscribeChannels(channels: string[]): void {
    this.#request('subscribe', channels, { action: 'subscribe', channels });
    for (const channel of channels) {
      const state = this.#channels.get(channel);
      if (!state) continue;
      clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        if (state.status === 'pending' && this.#channels.get(channel) === state)
          this.#subscribeChannels([channel]);
      }, this.#o.resumeTimeoutMs);
    }
  }

  #request(action: string, channels: string[], message: WireMessage): void {
    this.#inflight.push({ action, channels });
    this.#send(message);
  }

  /** `channel`'s answer to `action` arrived. */
  #answered(action: string, channel: string): void {
    for (const entry of this.#inflight)
      if (entry.action === action) entry.channels = entry.channels.filter((c) => c !== channel);
    this.#inflight = this.#inflight.filter((entry) => entry.channels.length > 0);
  }

  // ── frames ───────────────────────────────────────────────────────────────

  #handleMessage(text: string): void {
    // Any frame proves the connection is alive.
    this.#clearTimer('pong');
    const frame = parseServerFrame(text);
    if (frame) this.#handleFrame(frame);
    else this.#emit('error', new MalformedFrameError(text));
  }

  #handleFrame(frame: WireFrame): void {
    switch (frame.type) {
      case 'event':
        this.#receive([frame.event]);
        break;
      case 'events':
        this.#receive(frame.events);
        break;
      case 'subscribed':
        this.#confirm(frame.channels, frame.heads ?? []);
        break;
      case 'resumed':
        this.#finishResume(frame.channel, frame.head);
        break;
      case 'fetched':
        this.#fetched(frame.channel, frame.toSeq);
        break;
      case 'refresh':
        this.#refreshed(frame.channel, frame.reason, frame.eventId, frame.head);
        break;
      case 'close':
        this.#reconnectAfterMs = frame.reconnectAfterMs;
        this.#drop(1000, frame.reason);
        break;
      case 'error':
        this.#serverError(frame.code, frame.message, frame.action);
        break;
    }
  }

  #receive(events: readonly WireEnvelope[]): void {
    for (const event of events) {
      const state = this.#channels.get(event.channel);
      if (!state) continue;
      if (
        event.epoch !== undefined &&
        state.epoch !== undefined &&
        event.epoch !== state.epoch &&
        event.seq
      ) {
        // The channel's history restarted: what came before the new epoch cannot be fetched.
        state.moveTo({ seq: event.seq - 1, epoch: event.epoch });
        this.#emit('refresh', { channel: state.channel, reason: 'epoch_changed' });
      }
      this.#deliver(state, state.accept(event));
      if (state.heldCount > this.#o.maxHeldEvents) this.#failResume(state);
      this.#checkGap(state);
    }
  }

  #confirm(channels: readonly string[], heads: readonly (Head & { channel: string })[]): void {
    const resumes = [];
    for (const channel of channels) {
      const state = this.#channels.get(channel);
      this.#answered('subscribe', channel);
      if (!state || state.status === 'confirmed') continue;
      state.status = 'confirmed';
      clearTimeout(state.timer);
      const head = heads.find((h) => h.channel === channel);
      // A new channel starts at the head: its next reconnect resumes from there even if it stays
      // quiet. A channel resuming by event id only (no seq yet) takes its seq from the replay.
      if (head && (!state.resuming || state.seq !== undefined)) state.announce(head);
      if (!state.resuming) continue;
      resumes.push(state.resumeItem());
      this.#startResumeTimer(state);
    }
    // The subscription exists before the replay is read, so no event falls between the two.
    for (const group of chunks(resumes, MAX_CHANNELS_PER_MESSAGE))
      this.#request(
        'resume',
        group.map((item) => item.channel),
        { action: 'resume', channels: group },
      );
    this.#confirmed();
    this.#settle();
  }

  #startResumeTimer(state: ChannelState): void {
    clearTimeout(state.timer);
    // A slow replay is asked for again before the client gives up on it (a loaded or restarting server).
    state.timer = setTimeout(() => {
      if (!this.#retryResume(state)) this.#failResume(state);
    }, this.#o.resumeTimeoutMs);
  }

  /** Asks for the replay again a little later; false when the retries are used up. */
  #retryResume(state: ChannelState | undefined): boolean {
    if (!state?.resuming || state.status !== 'confirmed' || state.retries >= this.#o.resumeRetries)
      return false;
    state.retries += 1;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      if (!state.resuming || this.#channels.get(state.channel) !== state) return;
      this.#request('resume', [state.channel], { action: 'resume', channels: [state.resumeItem()] });
      this.#startResumeTimer(state);
    }, RETRY_STEP_MS * state.retries);
    return true;
  }

  /** The replay is complete; `head` (after the held events went out) says whether a gap remains. */
  #finishResume(channel: string, head?: Head): void {
    const state = this.#channels.get(channel);
    this.#answered('resume', channel);
    if (!state?.resuming) return;
    clearTimeout(state.timer);
    this.#deliver(state, state.endResume());
    if (head) state.announce(head);
    this.#checkGap(state);
    this.#settle();
  }

  /** The replay did not complete: deliver what arrived and tell the app to reload the channel. */
  #failResume(state: ChannelState): void {
    if (!state.resuming) return;
    this.#finishResume(state.channel);
    this.#emit('refresh', { channel: state.channel, reason: 'resume_failed' });
  }

  #refreshed(
    channel: string,
    reason: RefreshNotice['reason'],
    eventId: string | undefined,
    head: Head | undefined,
  ): void {
    const state = this.#channels.get(channel);
    if (reason === 'unknown_since' && this.#retryResume(state)) return;
    if (state) {
      // The refresh moves the resume point: a quiet channel is not told to refresh again next time.
      if (head) this.#deliver(state, state.moveTo(head));
      else if (reason === 'history_lost') this.#deliver(state, state.skipTo(state.missing()?.[1] ?? 0));
      else if (reason !== 'payload_too_large') state.forget();
      if (reason === 'history_lost') this.#endFetch(state);
    }
    // After these reasons no replay follows; a too-large payload is one event, not the resume.
    if (reason !== 'payload_too_large') this.#finishResume(channel);
    this.#emit('refresh', eventId === undefined ? { channel, reason } : { channel, reason, eventId });
  }

  // ── gaps ─────────────────────────────────────────────────────────────────

  /**
   * A gap waits `gapWaitMs` for the stream to fill it, then is fetched, one fetch at a time; while
   * it stays open the wait doubles (up to the back-off ceiling).
   */
  #checkGap(state: ChannelState): void {
    if (!state.missing()) state.fetches = 0;
    else if (!state.resuming && state.gapTimer === undefined && this.#socketOpen)
      state.gapTimer = setTimeout(
        () => this.#fetchGap(state),
        Math.min(this.#o.gapWaitMs * 2 ** state.fetches, this.#backoff.maxMs),
      );
  }

  #fetchGap(state: ChannelState): void {
    const range = state.missing();
    state.gapTimer = undefined;
    if (!range || this.#channels.get(state.channel) !== state) return;
    const [fromSeq, toSeq] = range;
    state.fetches += 1;
    this.#request('fetch', [state.channel], {
      action: 'fetch',
      channel: state.channel,
      fromSeq,
      toSeq,
      epoch: state.epoch,
    });
    // No answer is not a loss: only the server says a range is gone (`history_lost`). Ask again, later.
    state.gapTimer = setTimeout(() => {
      this.#endFetch(state);
      this.#checkGap(state);
    }, this.#o.resumeTimeoutMs);
  }

  #endFetch(state: ChannelState): void {
    this.#answered('fetch', state.channel);
    clearTimeout(state.gapTimer);
    state.gapTimer = undefined;
  }

  /** Numbers still missing after `fetched` are in flight (a lost one is answered with a refresh): wait again. */
  #fetched(channel: string, toSeq: number): void {
    const state = this.#channels.get(channel);
    if (!state) return;
    this.#endFetch(state);
    // The range was filled: a later gap starts with the short wait again.
    if ((state.seq ?? 0) >= toSeq) state.fetches = 0;
    this.#checkGap(state);
  }

  #gapLost(state: ChannelState, toSeq: number, reason: RefreshNotice['reason']): void {
    this.#endFetch(state);
    this.#deliver(state, state.skipTo(toSeq));
    this.#emit('refresh', { channel: state.channel, reason });
    this.#checkGap(state);
  }

  // ── errors ───────────────────────────────────────────────────────────────

  /** An `error` frame answers the oldest request of its action; only that request's channels are affected. */
  #serverError(code: string, message: string, action: string | undefined): void {
    this.#emit('error', new ServerError(code, message, action));
    const index = this.#inflight.findIndex((entry) => entry.action === action);
    if (index < 0) return;
    const [entry] = this.#inflight.splice(index, 1);
    for (const channel of entry?.channels ?? []) {
      const state = this.#channels.get(channel);
      if (!state) continue;
      const retry = code === 'INTERNAL' && state.retries < this.#o.resumeRetries;
      if (action === 'subscribe') {
        clearTimeout(state.timer);
        if (code !== 'INTERNAL') state.status = 'refused';
        // A failed subscription stays pending (ready() waits) and is asked again with back-off.
        else
          state.timer = setTimeout(
            () => this.#subscribeChannels([channel]),
            backoffDelayMs(state.retries++, this.#backoff, this.#random),
          );
      } else if (action === 'resume') {
        if (!(retry && this.#retryResume(state))) this.#failResume(state);
      } else if (action === 'fetch') {
        this.#endFetch(state);
        const range = state.missing();
        // A server error is retried with a growing wait; a refusal (not subscribed, bad range) is final.
        if (code === 'INTERNAL') this.#checkGap(state);
        else if (range) this.#gapLost(state, range[1], 'resume_failed');
      }
    }
    this.#settle();
  }

  #deliver(state: ChannelState, events: readonly WireEnvelope[]): void {
    for (const event of events) {
      let handled = true;
      for (const listener of [...state.listeners]) {
        try {
          listener(event);
        } catch (error) {
          handled = false;
          this.#emit('error', new HandlerError(state.channel, event.id, { cause: error }));
        }
      }
      // A receipt says the app's handlers returned; one that threw is not acknowledged.
      if (handled && this.options.receipts) {
        this.#acks.push(event.id);
        // A full message goes at once and the second starts again: small ones only when the rate is low.
        if (this.#acks.length >= ACK_MAX_IDS) {
          this.#clearTimer('ack');
          this.#sendAcks();
        } else this.#scheduleAcks();
      }
    }
  }

  /** Receipts go at most once a second (inbound messages are billed), or at once when a message is full. */
  #scheduleAcks(): void {
    if (this.#acks.length > 0)
      this.#timers.ack ??= setTimeout(() => {
        this.#timers.ack = undefined;
        this.#sendAcks();
      }, ACK_INTERVAL_MS);
  }

  #sendAcks(): void {
    if (!this.#socketOpen) return; // kept for the next connection
    this.#send({ action: 'ack', ids: this.#acks.splice(0, ACK_MAX_IDS) });
    this.#scheduleAcks();
  }

  // ── state and listeners ──────────────────────────────────────────────────

  #isSettled(): boolean {
    if (!this.#socketOpen) return false;
    for (const state of this.#channels.values()) {
      if (state.status === 'pending' || (state.status === 'confirmed' && state.resuming)) return false;
    }
    return true;
  }

  #settle(): void {
    if (!this.#isSettled() || this.#readyWaiters.length === 0) return;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #setState(next: ConnectionState): void {
    if (this.#currentState === next) return;
    this.#currentState = next;
    this.#emit('state', next);
  }

  #emit<TName extends keyof ClientEvents>(name: TName, value: ClientEvents[TName]): void {
    const set: Set<(value: ClientEvents[TName]) => void> = this.#listeners[name];
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
