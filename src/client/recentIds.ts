/**
 * The ids of recently delivered events without a sequence number, kept for a span of event time
 * (the server's resume overlap and then some) rather than for a count: a burst of any size inside
 * the overlap is remembered whole. `capacity` still bounds memory.
 */
export class RecentIds {
  /** id → event time (ms); insertion order is roughly time order, so the oldest come first. */
  readonly #ids = new Map<string, number>();
  /** The newest event time added. */
  newest = Number.NEGATIVE_INFINITY;
  /** Ids at or before this time may have been forgotten early (capacity): not trusted. */
  #floor = Number.NEGATIVE_INFINITY;

  readonly #capacity: number;
  readonly #windowMs: number;

  constructor(capacity: number, windowMs: number) {
    this.#capacity = capacity;
    this.#windowMs = windowMs;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** True when an event of time `timeMs` is recent enough for `has` to be trusted. */
  covers(timeMs: number): boolean {
    return timeMs > this.#floor && timeMs >= this.newest - this.#windowMs;
  }

  /** Remembers `id`, forgetting ids older than the window, then the oldest beyond `capacity`. */
  add(id: string, timeMs: number): void {
    this.#ids.delete(id); // re-added ids move to the end
    this.#ids.set(id, timeMs);
    if (timeMs > this.newest) this.newest = timeMs;
    for (const [old, time] of this.#ids) {
      if (this.#ids.size <= this.#capacity && this.covers(time)) break;
      if (this.covers(time)) this.#floor = Math.max(this.#floor, time);
      this.#ids.delete(old);
    }
  }

  get size(): number {
    return this.#ids.size;
  }
}
