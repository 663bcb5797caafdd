/**
 * Resume (pure, with ports): replay a channel's events after the client's last seen event id
 * from the audit table, in position order, then a `resumed` frame; `refresh` when `since` is
 * unknown (or belongs to another tenant or channel) or when more than `maxEvents` were missed.
 *
 * EventBridge does not keep order, so an event with an earlier position can reach the audit
 * table after `since` did. The replay therefore starts `overlapMs` before `since`'s time: the
 * client may see a few events again and drops them by `id`.
 */
import type { Envelope } from './envelope.js';
import { type FanoutPlanOptions, planMessages } from './fanoutPlan.js';
import { type ForeignItemsSink, keepOwnItems } from './foreignItems.js';
import { refreshFrame, serializeEnvelope, serializeFrame } from './frames.js';

export interface ResumePorts {
  /** The tenant's event with this id (event ids are unique per tenant). */
  getEvent(
    tenantId: string,
    eventId: string,
  ): Promise<Pick<Envelope, 'tenantId' | 'channel' | 'position' | 'time'> | undefined>;
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
}

export const DEFAULT_RESUME_SETTINGS: ResumeSettings = {
  maxEvents: 1000,
  overlapMs: 2000,
  maxEventsPerFrame: 50,
  maxMessageBytes: 128 * 1024,
};

export interface ResumeOutcome {
  /** Message bodies to post, in order (events frames then `resumed`, or one `refresh`). */
  readonly messages: readonly string[];
  readonly replayed: number;
  readonly refreshed: boolean;
}

const PAGE = 1000;

/** Replay one channel for a connection of `tenantId`. */
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
  return { messages: [...bodies, resumed(replay.length)], replayed: replay.length, refreshed: false };
}

export const RESUME_ENV = { maxEvents: 'RESUME_MAX_EVENTS', overlapMs: 'RESUME_OVERLAP_MS' } as const;

/** Resume settings from the environment (`RESUME_MAX_EVENTS`, `RESUME_OVERLAP_MS`); bad values fall back to defaults. */
export function resumeSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  base: ResumeSettings = DEFAULT_RESUME_SETTINGS,
): ResumeSettings {
  const read = (name: string, fallback: number, min: number): number => {
    const value = Number(env[name]);
    return env[name] !== undefined && env[name] !== '' && Number.isInteger(value) && value >= min
      ? value
      : fallback;
  };
  return {
    ...base,
    maxEvents: read(RESUME_ENV.maxEvents, base.maxEvents, 1),
    overlapMs: read(RESUME_ENV.overlapMs, base.overlapMs, 0),
  };
}
