/**
 * Resume (pure, with ports): replay a channel's events from the audit table, then a `resumed`
 * frame; `refresh` when the client's place is unknown, too far behind, in another sequence
 * history (epoch), or behind events that no longer exist.
 *
 * By sequence (`afterSeq`, or `since` naming a numbered event): every audited event of the
 * channel's current epoch numbered above `afterSeq`, in sequence order. Gap-free because the
 * caller stores the subscription before this reads the audit table, and the fan-out records an
 * event in the audit table before it reads subscribers: an event missing from the read has not
 * been delivered to anyone yet, and will be delivered to this connection live. A number missing
 * from the middle is such an event in flight, unless the next audited event after it was recorded
 * more than `holeGraceMs` ago: then it is gone (audit TTL, lost history) and the client refreshes.
 *
 * By position (`since` naming an event from before sequences): EventBridge does not keep order,
 * so the replay starts `overlapMs` before `since`'s time; repeats are dropped by `id`.
 */
import type { Envelope } from './envelope.js';
import { type Env, readWholeNumber } from './envSettings.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME, type FanoutPlanOptions, planMessages } from './fanoutPlan.js';
import { type ForeignItemsSink, keepOwnItems } from './foreignItems.js';
import { refreshFrame, serializeEnvelope, serializeFrame } from './frames.js';
import { WEBSOCKET_MAX_MESSAGE_BYTES } from './limits.js';
import type { Head, RefreshReason } from './protocol.js';

/** An audited event as the sequence index returns it. */
export interface SeqItem {
  readonly envelope: Envelope;
  /** When the audit table recorded it. */
  readonly recordedAt: string;
}

export interface SequenceReadPorts {
  /** The channel's current epoch (its counter is created, at 0, when the channel has none). */
  currentEpoch(tenantId: string, channel: string): Promise<string>;
  /** Audited events of one epoch by number (index `bySeq`); `fromSeq`/`toSeq` inclusive; limit ≤ 1000. */
  querySeq(
    tenantId: string,
    channel: string,
    epoch: string,
    options: { fromSeq?: number; toSeq?: number; limit: number; ascending: boolean },
  ): Promise<{ readonly items: readonly SeqItem[]; readonly more: boolean }>;
}

export interface ResumePorts extends SequenceReadPorts {
  /** The tenant's event with this id (event ids are unique per tenant). */
  getEvent(
    tenantId: string,
    eventId: string,
  ): Promise<Pick<Envelope, 'tenantId' | 'channel' | 'position' | 'time' | 'seq' | 'epoch'> | undefined>;
  queryChannel(
    tenantId: string,
    channel: string,
    options: { afterPosition?: string; limit: number; ascending: true },
  ): Promise<{ events: readonly Envelope[]; nextPosition?: string }>;
  /** Told about replayed items whose stored tenant/channel differ from the ones asked for (dropped). */
  onForeignItems?: ForeignItemsSink;
}

export interface ResumeSettings extends Pick<FanoutPlanOptions, 'maxEventsPerFrame' | 'maxMessageBytes'> {
  /** More missed events than this → `refresh` (too_many_missed). Env `RESUME_MAX_EVENTS`, default 1000. */
  readonly maxEvents: number;
  /** How far before `since` the replay starts (out-of-order delivery). Env `RESUME_OVERLAP_MS`, default 2000. */
  readonly overlapMs: number;
  /**
   * A sequence number missing from the audit table counts as lost (not in flight) once the next
   * audited event was recorded this long ago. Env `RESUME_HOLE_GRACE_MS`, default 300000 (5 min).
   */
  readonly holeGraceMs: number;
  /** The clock (tests). @default Date.now */
  readonly now?: () => number;
}

/** More missed events than this on resume → `refresh` (the stack's `resumeLimit`, `RESUME_MAX_EVENTS`). */
export const DEFAULT_RESUME_MAX_EVENTS = 1000;

export const DEFAULT_RESUME_SETTINGS: ResumeSettings = {
  maxEvents: DEFAULT_RESUME_MAX_EVENTS,
  overlapMs: 2000,
  holeGraceMs: 5 * 60 * 1000,
  maxEventsPerFrame: DEFAULT_MAX_EVENTS_PER_FRAME,
  maxMessageBytes: WEBSOCKET_MAX_MESSAGE_BYTES,
};

export interface ResumeOutcome {
  /** Message bodies to post, in order (events frames then `resumed`, or one `refresh`). */
  readonly messages: readonly string[];
  readonly replayed: number;
  readonly refreshed: boolean;
  /** The events sent (recorded per subject as `replayed`); absent when none were. */
  readonly replayedEvents?: readonly Envelope[];
}

const PAGE = 1000;

/** Replay one channel by position (events from before sequences) for a connection of `tenantId`. */
export async function resumeChannel(
  tenantId: string,
  channel: string,
  since: string | undefined,
  ports: ResumePorts,
  settings: ResumeSettings = DEFAULT_RESUME_SETTINGS,
): Promise<ResumeOutcome> {
  const resumed = (replayed: number): string => serializeFrame({ type: 'resumed', channel, replayed });
  if (since === undefined) return { messages: [resumed(0)], replayed: 0, refreshed: false };

  const refresh = (reason: 'unknown_since' | 'too_many_missed'): ResumeOutcome => ({
    messages: [serializeFrame(refreshFrame(channel, reason))],
    replayed: 0,
    refreshed: true,
  });
  const anchor = await ports.getEvent(tenantId, since);
  // Another tenant's (or channel's) event id is answered exactly like an unknown one: no leak.
  if (!anchor || anchor.tenantId !== tenantId || anchor.channel !== channel) return refresh('unknown_since');

  const overlapStart = new Date(Date.parse(anchor.time) - settings.overlapMs).toISOString();
  const replay: Envelope[] = [];
  let missed = 0;
  let cursor: string | undefined = overlapStart;
  // Bound the overlap's share too, so a burst right before `since` cannot make the replay unbounded.
  const fetchCap = settings.maxEvents * 2 + 1;
  let fetched = 0;
  while (cursor !== undefined) {
    const page = await ports.queryChannel(tenantId, channel, {
      afterPosition: cursor,
      limit: Math.min(PAGE, fetchCap - fetched),
      ascending: true,
    });
    fetched += page.events.length;
    // Last line: whatever the index returned, only this tenant's channel is replayed.
    const own = keepOwnItems(page.events, { tenantId, channel }, (e) => e, 'resume', ports.onForeignItems);
    for (const event of own) {
      if (event.id === since) continue;
      if (event.position > anchor.position) missed += 1;
      replay.push(event);
    }
    if (missed > settings.maxEvents) return refresh('too_many_missed');
    cursor = fetched < fetchCap ? page.nextPosition : undefined;
    if (fetched >= fetchCap && page.nextPosition !== undefined) return refresh('too_many_missed');
  }

  const bodies = planMessages(replay, serializeEnvelope, { ...settings, coalesce: true }).map((m) => m.body);
  return {
    messages: [...bodies, resumed(replay.length)],
    replayed: replay.length,
    refreshed: false,
    replayedEvents: replay,
  };
}

export const RESUME_ENV = {
  maxEvents: 'RESUME_MAX_EVENTS',
  overlapMs: 'RESUME_OVERLAP_MS',
  holeGraceMs: 'RESUME_HOLE_GRACE_MS',
} as const;

/** Resume settings from the environment (`RESUME_MAX_EVENTS`, `RESUME_OVERLAP_MS`, `RESUME_HOLE_GRACE_MS`); a bad value throws `InvalidSettingError`. */
export function resumeSettingsFromEnv(
  env: Env,
  base: ResumeSettings = DEFAULT_RESUME_SETTINGS,
): ResumeSettings {
  return {
    ...base,
    maxEvents: readWholeNumber(env, RESUME_ENV.maxEvents, {
      fallback: base.maxEvents,
      min: 1,
      unit: 'events',
    }),
    overlapMs: readWholeNumber(env, RESUME_ENV.overlapMs, {
      fallback: base.overlapMs,
      min: 0,
      unit: 'milliseconds',
    }),
    holeGraceMs: readWholeNumber(env, RESUME_ENV.holeGraceMs, {
      fallback: base.holeGraceMs,
      min: 0,
      unit: 'milliseconds',
    }),
  };
}

/** Where a client resumes a channel (one item of a `resume` message). */
export interface ResumeRequest {
  readonly channel: string;
  readonly since?: string;
  readonly afterSeq?: number;
  readonly epoch?: string;
}

/** The channel's head: its current epoch and the highest audited number in it (0 if none). */
export async function readHead(tenantId: string, channel: string, ports: SequenceReadPorts): Promise<Head> {
  const epoch = await ports.currentEpoch(tenantId, channel);
  return { seq: await highestAudited(tenantId, channel, epoch, ports), epoch };
}

async function highestAudited(
  tenantId: string,
  channel: string,
  epoch: string,
  ports: SequenceReadPorts,
): Promise<number> {
  const last = await ports.querySeq(tenantId, channel, epoch, { limit: 1, ascending: false });
  return last.items[0]?.envelope.seq ?? 0;
}

function refreshWithHead(channel: string, reason: RefreshReason, head: Head): ResumeOutcome {
  return {
    messages: [serializeFrame({ type: 'refresh', channel, reason, head })],
    replayed: 0,
    refreshed: true,
  };
}

/**
 * Read the audited events numbered `fromSeq` and up (to `toSeq` when given) in order, at most
 * `cap` of them (a page more tells the caller there were more).
 */
async function readRange(
  tenantId: string,
  channel: string,
  epoch: string,
  range: { fromSeq: number; toSeq?: number; cap: number },
  ports: SequenceReadPorts & Pick<ResumePorts, 'onForeignItems'>,
): Promise<{ items: SeqItem[]; more: boolean }> {
  const items: SeqItem[] = [];
  let from = range.fromSeq;
  for (;;) {
    const page = await ports.querySeq(tenantId, channel, epoch, {
      fromSeq: from,
      ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}),
      limit: Math.min(PAGE, range.cap - items.length),
      ascending: true,
    });
    // Last line: whatever the index returned, only this tenant's channel is replayed.
    items.push(
      ...keepOwnItems(page.items, { tenantId, channel }, (i) => i.envelope, 'resume', ports.onForeignItems),
    );
    const last = page.items.at(-1)?.envelope.seq;
    if (!page.more || last === undefined) return { items, more: false };
    if (items.length >= range.cap) return { items, more: true };
    from = last + 1;
  }
}

/**
 * Numbers of `[fromSeq, toSeq]` absent from `items` (sorted by seq) that are lost: the next
 * audited event after the number (in `items`, else `after`) was recorded at least `graceMs` ago.
 * A missing number with no later event, or a recent one, is in flight and not reported.
 */
export function lostNumbers(
  fromSeq: number,
  toSeq: number,
  items: readonly SeqItem[],
  after: SeqItem | undefined,
  graceMs: number,
  nowMs: number,
): number[] {
  const lost: number[] = [];
  let expected = fromSeq;
  const check = (next: SeqItem | undefined, upTo: number) => {
    const old = next !== undefined && Date.parse(next.recordedAt) <= nowMs - graceMs;
    for (let n = expected; n <= upTo; n++) if (old) lost.push(n);
  };
  for (const item of items) {
    const seq = item.envelope.seq;
    if (seq === undefined || seq < expected) continue;
    if (seq > toSeq) break;
    if (seq > expected) check(item, seq - 1);
    expected = seq + 1;
  }
  if (expected <= toSeq) check(after, toSeq);
  return lost;
}

/**
 * Resume one channel: by sequence (`afterSeq`, or a numbered `since`), else by position.
 * @example await resumeChannelRequest('t1', { channel: 'orders', afterSeq: 41, epoch }, ports)
 */
export async function resumeChannelRequest(
  tenantId: string,
  request: ResumeRequest,
  ports: ResumePorts,
  settings: ResumeSettings = DEFAULT_RESUME_SETTINGS,
): Promise<ResumeOutcome> {
  const { channel } = request;
  if (request.afterSeq !== undefined) {
    return resumeBySeq(tenantId, channel, request.afterSeq, request.epoch, ports, settings);
  }
  if (request.since !== undefined) {
    const anchor = await ports.getEvent(tenantId, request.since);
    if (anchor && anchor.tenantId === tenantId && anchor.channel === channel && anchor.seq !== undefined) {
      return resumeBySeq(tenantId, channel, anchor.seq, anchor.epoch ?? request.epoch, ports, settings);
    }
    const outcome = await resumeChannel(tenantId, channel, request.since, ports, settings);
    return outcome.refreshed ? outcome : withHead(outcome, channel, await readHead(tenantId, channel, ports));
  }
  // "From now": nothing to replay; the head tells the client where live delivery starts.
  return {
    messages: [
      serializeFrame({
        type: 'resumed',
        channel,
        replayed: 0,
        head: await readHead(tenantId, channel, ports),
      }),
    ],
    replayed: 0,
    refreshed: false,
  };
}

/** Put the head on a position replay's final `resumed` frame. */
function withHead(outcome: ResumeOutcome, channel: string, head: Head): ResumeOutcome {
  const messages = [...outcome.messages];
  messages[messages.length - 1] = serializeFrame({
    type: 'resumed',
    channel,
    replayed: outcome.replayed,
    head,
  });
  return { ...outcome, messages };
}

async function resumeBySeq(
  tenantId: string,
  channel: string,
  afterSeq: number,
  clientEpoch: string | undefined,
  ports: SequenceReadPorts & Pick<ResumePorts, 'onForeignItems'>,
  settings: ResumeSettings,
): Promise<ResumeOutcome> {
  const epoch = await ports.currentEpoch(tenantId, channel);
  const head = async (): Promise<Head> => ({
    seq: await highestAudited(tenantId, channel, epoch, ports),
    epoch,
  });
  if (clientEpoch !== undefined && clientEpoch !== epoch)
    return refreshWithHead(channel, 'epoch_changed', await head());

  const { items, more } = await readRange(
    tenantId,
    channel,
    epoch,
    { fromSeq: afterSeq + 1, cap: settings.maxEvents + 1 },
    ports,
  );
  if (more || items.length > settings.maxEvents)
    return refreshWithHead(channel, 'too_many_missed', await head());
  const last = items.at(-1)?.envelope.seq;
  if (last !== undefined) {
    const lost = lostNumbers(
      afterSeq + 1,
      last,
      items,
      undefined,
      settings.holeGraceMs,
      (settings.now ?? Date.now)(),
    );
    if (lost.length > 0) return refreshWithHead(channel, 'history_lost', { seq: last, epoch });
  }
  const replay = items.map((item) => item.envelope);
  const bodies = planMessages(replay, serializeEnvelope, { ...settings, coalesce: true }).map((m) => m.body);
  const resumedHead: Head = last !== undefined ? { seq: last, epoch } : await head();
  return {
    messages: [
      ...bodies,
      serializeFrame({ type: 'resumed', channel, replayed: replay.length, head: resumedHead }),
    ],
    replayed: replay.length,
    refreshed: false,
    replayedEvents: replay,
  };
}

/** What `fetch` answers: the events found and `fetched`, or one `refresh`. */
export interface FetchOutcome {
  readonly messages: readonly string[];
  readonly count: number;
  readonly refreshed: boolean;
  /** The events sent (recorded per subject as `replayed`). */
  readonly events?: readonly Envelope[];
}

/**
 * Answer a `fetch` of `[fromSeq, toSeq]` (the caller checked the subscription and the range's
 * size): the audited events of the range in order, then `fetched`; or `refresh` `epoch_changed`
 * (the client's epoch is not current) or `history_lost` (a number of the range is gone, see
 * `lostNumbers`). Numbers still in flight are simply absent (`count` is smaller than the range).
 */
export async function fetchRange(
  tenantId: string,
  request: { channel: string; fromSeq: number; toSeq: number; epoch?: string },
  ports: SequenceReadPorts & Pick<ResumePorts, 'onForeignItems'>,
  settings: ResumeSettings = DEFAULT_RESUME_SETTINGS,
): Promise<FetchOutcome> {
  const { channel, fromSeq, toSeq } = request;
  const epoch = await ports.currentEpoch(tenantId, channel);
  const refresh = async (reason: RefreshReason): Promise<FetchOutcome> => ({
    messages: refreshWithHead(channel, reason, {
      seq: await highestAudited(tenantId, channel, epoch, ports),
      epoch,
    }).messages,
    count: 0,
    refreshed: true,
  });
  if (request.epoch !== undefined && request.epoch !== epoch) return refresh('epoch_changed');
  const { items } = await readRange(
    tenantId,
    channel,
    epoch,
    { fromSeq, toSeq, cap: toSeq - fromSeq + 1 },
    ports,
  );
  let after: SeqItem | undefined;
  if ((items.at(-1)?.envelope.seq ?? fromSeq - 1) < toSeq) {
    // The range ends in missing numbers: the next event after it tells lost from in flight.
    after = (
      await ports.querySeq(tenantId, channel, epoch, { fromSeq: toSeq + 1, limit: 1, ascending: true })
    ).items[0];
  }
  const nowMs = (settings.now ?? Date.now)();
  if (lostNumbers(fromSeq, toSeq, items, after, settings.holeGraceMs, nowMs).length > 0)
    return refresh('history_lost');
  const events = items.map((item) => item.envelope);
  const bodies = planMessages(events, serializeEnvelope, { ...settings, coalesce: true }).map((m) => m.body);
  return {
    messages: [...bodies, serializeFrame({ type: 'fetched', channel, fromSeq, toSeq, count: events.length })],
    count: events.length,
    refreshed: false,
    events,
  };
}
