/**
 * A subject's audit records (src/core/auditRecord.ts, `kind: subject`) folded per event: when it
 * was delivered live, replayed, acknowledged, or found gone — the answer to "what was agent X
 * sent, and what did it get?". Pure.
 */
import type { SubjectOutcome, SubjectRecord } from './auditRecord.js';

export interface SubjectEventHistory {
  readonly eventId: string;
  readonly channel: string;
  /** Undefined only when every record came from a targeted retry (which does not carry the type). */
  readonly type: string | undefined;
  /** The earliest time of each outcome recorded for this event and subject. */
  readonly first: Partial<Record<SubjectOutcome, string>>;
  /** The connections the records name, in the order first seen. */
  readonly connections: readonly string[];
}

/** Was the event sent to the subject (live or in a replay)? */
export function wasSent(history: SubjectEventHistory): boolean {
  return history.first.delivered !== undefined || history.first.replayed !== undefined;
}

/** Sent but never acknowledged: what `audit subject --missing` lists. */
export function isMissing(history: SubjectEventHistory): boolean {
  return wasSent(history) && history.first.received === undefined;
}

/** Fold records (any order) into one history per event, ordered by the event's earliest record. */
export function foldSubjectRecords(records: readonly SubjectRecord[]): SubjectEventHistory[] {
  const byEvent = new Map<
    string,
    {
      eventId: string;
      channel: string;
      type: string | undefined;
      first: Partial<Record<SubjectOutcome, string>>;
      connections: string[];
      earliest: string;
    }
  >();
  for (const record of records) {
    const at = new Date(record.at).toISOString();
    let entry = byEvent.get(record.eventId);
    if (!entry) {
      entry = {
        eventId: record.eventId,
        channel: record.channel,
        type: record.type,
        first: {},
        connections: [],
        earliest: at,
      };
      byEvent.set(record.eventId, entry);
    }
    const known = entry.first[record.outcome];
    if (known === undefined || at < known) entry.first[record.outcome] = at;
    entry.type ??= record.type;
    if (at < entry.earliest) entry.earliest = at;
    if (!entry.connections.includes(record.connectionId)) entry.connections.push(record.connectionId);
  }
  return [...byEvent.values()]
    .sort((a, b) =>
      a.earliest === b.earliest ? a.eventId.localeCompare(b.eventId) : a.earliest < b.earliest ? -1 : 1,
    )
    .map(({ earliest: _earliest, ...history }) => history);
}
