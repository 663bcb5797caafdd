/**
 * What the client knows about one subscribed channel: its handlers and its position.
 *
 * With sequence numbers (`seq`, `epoch` on every event) the position is the highest contiguous
 * `seq` delivered: anything at or below it is a duplicate, the next one is delivered at once, a
 * later one waits in `early` until the gap before it is filled (by the live stream, the replay or
 * a `fetch`). Without them (an older server) the position is the furthest event id and position
 * delivered, events are held during a resume and sorted by position, and ids within a window of
 * event time catch the replay's overlap.
 */
import { RecentIds } from './recentIds.js';
import type { Head, ResumeItem, WireEnvelope } from './wire.js';

export type SubscriptionStatus = 'pending' | 'confirmed' | 'refused';

/** Where a subscription stands: keep it and pass it back as `subscribe(…, { position })`. */
export interface ChannelPosition {
  /** Highest contiguous sequence number delivered (servers with sequences). */
  readonly seq?: number;
  readonly epoch?: string;
  /** Id of the furthest event delivered (servers without sequences). */
  readonly id?: string;
}

type Timer = ReturnType<typeof setTimeout>;

export class ChannelState {
  readonly listeners = new Set<(event: WireEnvelope) => void>();
  status: SubscriptionStatus = 'pending';
  /** Highest contiguous seq delivered; undefined until a head or a first event says where we are. */
  declare seq: number | undefined;
  declare epoch: string | undefined;
  /** Highest seq seen or announced: the gap is everything between `seq` and it not in `early`. */
  top = 0;
  declare lastId: string | undefined;
  #lastPosition: string | undefined;
  /** True from the (re)subscription until `resumed` (or its refresh/failure). */
  resuming = false;
  /** Retries used by the current resume or subscription. */
  retries = 0;
  /** Fetches sent for the current gap: each waits twice as long as the one before. */
  fetches = 0;
  /** The resume/retry timer and the gap timer (wait, then the fetch's deadline). */
  declare timer: Timer | undefined;
  declare gapTimer: Timer | undefined;
  readonly #early = new Map<number, WireEnvelope>();
  #held: WireEnvelope[] = [];
  readonly #recent: RecentIds;
  readonly #maxHeld: number;

  constructor(
    readonly channel: string,
    maxHeld: number,
    dedupeCapacity: number,
    dedupeWindowMs: number,
    from: ChannelPosition = {},
  ) {
    this.#maxHeld = maxHeld;
    this.#recent = new RecentIds(dedupeCapacity, dedupeWindowMs);
    this.lastId = from.id;
    if (from.seq !== undefined && from.epoch !== undefined) this.moveTo(from as Head);
  }

  get position(): ChannelPosition {
    return { seq: this.seq, epoch: this.epoch, id: this.lastId };
  }

  /** Events held or waiting for a gap (bounded by `maxHeld`). */
  get heldCount(): number {
    return this.#held.length + this.#early.size;
  }

  /** The events to deliver now for `event`, in order (none for a duplicate or while it waits). */
  accept(event: WireEnvelope): WireEnvelope[] {
    const seq = event.seq;
    // Held during a resume: events without seq, and any while the channel has no seq yet (a
    // live event must not become the baseline before the replay of what came before it).
    if (this.resuming && (seq === undefined || this.seq === undefined)) {
      this.#held.push(event);
      return [];
    }
    if (seq === undefined) return this.#take(event) ? [event] : [];
    // A channel with no position yet starts at its first event.
    if (this.seq === undefined) this.moveTo({ seq: seq - 1, epoch: event.epoch ?? '' });
    if (seq <= (this.seq ?? 0) || this.#early.has(seq)) return [];
    if (seq > this.top) this.top = seq;
    if (seq !== (this.seq ?? 0) + 1) {
      // Beyond the cap the event is dropped but `top` remembers it: the gap's fetch brings it back.
      if (this.#early.size < this.#maxHeld) this.#early.set(seq, event);
      return [];
    }
    this.#advance(event);
    return [event, ...this.#drain()];
  }

  /** The missing range `[from, to]`, if any. */
  missing(): [number, number] | undefined {
    const seq = this.seq;
    if (seq === undefined || this.top <= seq) return undefined;
    let to = this.top;
    for (const key of this.#early.keys()) if (key <= to) to = key - 1;
    return to > seq ? [seq + 1, to] : undefined;
  }

  /** Gives up on everything up to `to` (a lost range): what waited behind it is delivered. */
  skipTo(to: number): WireEnvelope[] {
    if (this.seq === undefined || to <= this.seq) return [];
    this.seq = to;
    if (to > this.top) this.top = to;
    for (const key of this.#early.keys()) if (key <= to) this.#early.delete(key);
    return this.#drain();
  }

  /** Takes the server's head as the position (a refresh, a restored checkpoint, a new channel). */
  moveTo(head: Head): WireEnvelope[] {
    if (head.epoch !== this.epoch) {
      this.epoch = head.epoch;
      this.seq = head.seq;
      this.top = head.seq;
      this.#early.clear();
      return [];
    }
    return this.skipTo(head.seq);
  }

  /** A head the channel has at least reached: a gap if it is ahead of us. */
  announce(head: Head): void {
    if (this.seq === undefined) this.moveTo(head);
    else if (head.epoch === this.epoch && head.seq > this.top) this.top = head.seq;
  }

  /** After a refresh without a head (older server): forget a point the server no longer knows. */
  forget(): void {
    if (this.seq === undefined) this.lastId = undefined;
  }

  /** Starts a resume; false when there is no position to resume from. */
  beginResume(): boolean {
    this.#held = [];
    this.retries = 0;
    this.resuming = this.seq !== undefined || this.lastId !== undefined;
    return this.resuming;
  }

  resumeItem(): ResumeItem {
    // `since` as well: a server without sequences ignores `afterSeq` and uses it.
    const item: ResumeItem = { channel: this.channel };
    if (this.lastId !== undefined) item.since = this.lastId;
    if (this.seq !== undefined) {
      item.afterSeq = this.seq;
      item.epoch = this.epoch;
    }
    return item;
  }

  /** Ends the resume: the held events (replayed and live), in seq or position order, without duplicates. */
  endResume(): WireEnvelope[] {
    this.resuming = false;
    const held = this.#held;
    this.#held = [];
    // Stable sort: events with the same position (the same id) keep their arrival order.
    held.sort((a, b) =>
      a.seq && b.seq ? a.seq - b.seq : a.position < b.position ? -1 : a.position > b.position ? 1 : 0,
    );
    return held.flatMap((event) => this.accept(event));
  }

  /**
   * Forgets held events when the socket goes away mid-resume: the next resume starts from the
   * same point and replays them, whereas delivering them now could skip replayed ones.
   */
  abandonResume(): void {
    this.resuming = false;
    this.#held = [];
    clearTimeout(this.timer);
    clearTimeout(this.gapTimer);
    this.timer = this.gapTimer = undefined;
  }

  #drain(): WireEnvelope[] {
    const out: WireEnvelope[] = [];
    for (let next = this.#early.get((this.seq ?? 0) + 1); next; next = this.#early.get((this.seq ?? 0) + 1)) {
      this.#early.delete(next.seq ?? 0);
      this.#advance(next);
      out.push(next);
    }
    return out;
  }

  #advance(event: WireEnvelope): void {
    this.seq = event.seq;
    this.lastId = event.id;
    this.#lastPosition = event.position;
  }

  /**
   * Without sequences: an id seen is a duplicate; an unseen event behind the furthest position is
   * a straggler inside the remembered window (delivered) or a duplicate older than it (dropped).
   */
  #take(event: WireEnvelope): boolean {
    const time = Date.parse(event.time);
    if (this.#recent.has(event.id)) return false;
    const behind = this.#lastPosition !== undefined && event.position <= this.#lastPosition;
    if (behind && !this.#recent.covers(time)) return false;
    this.#recent.add(event.id, time);
    if (!behind) {
      this.#lastPosition = event.position;
      this.lastId = event.id;
    }
    return true;
  }
}
