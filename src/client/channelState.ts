/**
 * What the client knows about one subscribed channel: its handlers, the ids it delivered
 * recently (de-duplication), the position it reached (the `since` of the next resume) and the
 * events held back while a resume is replaying.
 */
import type { Envelope } from '../core/envelope.js';
import { RecentIds } from './recentIds.js';

export type SubscriptionStatus = 'pending' | 'confirmed' | 'refused';

export class ChannelState {
  readonly listeners = new Set<(event: Envelope) => void>();
  private readonly recent: RecentIds;
  /** Id and position of the furthest event delivered: a resume continues after it. */
  lastId: string | undefined;
  lastPosition: string | undefined;
  status: SubscriptionStatus = 'pending';
  /** True from the (re)subscription until the server's `resumed` frame: events are held in `held`. */
  resuming = false;
  /** `unknown_since` answers retried during the current resume. */
  resumeRetries = 0;
  private held: Envelope[] = [];

  constructor(
    readonly channel: string,
    dedupeWindow: number,
    since?: string,
  ) {
    this.recent = new RecentIds(dedupeWindow);
    this.lastId = since;
  }

  /** The events to deliver now for `event` (none while resuming, none for a duplicate). */
  accept(event: Envelope): Envelope[] {
    if (this.resuming) {
      this.held.push(event);
      return [];
    }
    return this.take(event) ? [event] : [];
  }

  /** Starts holding events back; a resume only makes sense from a known id. */
  beginResume(): boolean {
    if (this.lastId === undefined) return false;
    this.resuming = true;
    this.resumeRetries = 0;
    this.held = [];
    return true;
  }

  /** Ends the resume: the held events (replayed and live), in position order, without duplicates. */
  endResume(): Envelope[] {
    this.resuming = false;
    const held = this.held;
    this.held = [];
    // Stable sort: events with the same position (the same id) keep their arrival order.
    held.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
    return held.filter((event) => this.take(event));
  }

  /**
   * Forgets held events when the socket goes away mid-resume: the next resume starts from
   * `lastId` again and replays them, whereas delivering them now could skip replayed ones.
   */
  abandonResume(): void {
    this.resuming = false;
    this.held = [];
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Marks an event delivered unless its id was seen: true when it must be delivered. */
  private take(event: Envelope): boolean {
    if (this.recent.has(event.id)) return false;
    this.recent.add(event.id);
    // An event behind the furthest position (an unseen straggler) is still delivered, but the
    // resume point stays at the furthest position.
    if (this.lastPosition === undefined || event.position > this.lastPosition) {
      this.lastPosition = event.position;
      this.lastId = event.id;
    }
    return true;
  }
}
