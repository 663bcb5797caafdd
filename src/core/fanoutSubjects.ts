/**
 * The fan-out's per-subject audit records: for every event whose fan-out reached at most
 * `maxSubscribers` connections (and was not split into shard chunks), one record per connection
 * naming its subject and what happened (delivered, refresh, gone, failed). Wider fan-outs keep the
 * per-event summary alone, marked `summary-only`. The audit repository stores the records grouped
 * (one item per connection and one per event of a write: src/core/subjectItems.ts). Pure.
 */
import type { SubjectRecord } from './auditRecord.js';
import type { Envelope } from './envelope.js';
import type { EventFanoutSummary, FanoutResult } from './fanoutDelivery.js';
import { eventKeyOf } from './fanoutPlan.js';
import type { TargetedDelivery } from './targetedDelivery.js';

/** Per-subject records for channels with at most this many subscribers (FANOUT_SUBJECT_RECORDS_MAX). */
export const DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS = 100;

export type SubjectRecordsMode = 'per-subject' | 'summary-only';

export function subjectRecordsMode(
  summary: Pick<EventFanoutSummary, 'subscribers' | 'shard'>,
  maxSubscribers: number,
): SubjectRecordsMode {
  // A chunked fan-out is wider than the chunk threshold; each shard sees only its own share.
  return summary.shard === undefined && summary.subscribers <= maxSubscribers && maxSubscribers > 0
    ? 'per-subject'
    : 'summary-only';
}

/** The connections whose subjects the records need (only those of per-subject events). */
export function connectionsToName(result: FanoutResult, maxSubscribers: number): string[] {
  const recorded = perSubjectEventKeys(result, maxSubscribers);
  const ids = new Set<string>();
  for (const o of result.connectionOutcomes)
    if (o.eventIds.some((id) => recorded.has(eventKeyOf({ tenantId: o.tenantId, id }))))
      ids.add(o.connectionId);
  return [...ids];
}

function perSubjectEventKeys(result: FanoutResult, maxSubscribers: number): Set<string> {
  return new Set(
    result.summaries
      .filter((s) => subjectRecordsMode(s, maxSubscribers) === 'per-subject')
      .map((s) => eventKeyOf({ tenantId: s.tenantId, id: s.eventId })),
  );
}

/**
 * One record per connection and event of the per-subject events. A connection whose record is
 * gone (it disconnected meanwhile) or names another tenant gets none: no subject is guessed.
 */
export function fanoutSubjectRecords(
  result: FanoutResult,
  events: readonly Envelope[],
  subjects: ReadonlyMap<string, { readonly tenantId: string; readonly subject: string }>,
  maxSubscribers: number,
  at: Date,
): SubjectRecord[] {
  const recorded = perSubjectEventKeys(result, maxSubscribers);
  const byKey = new Map(events.map((e) => [eventKeyOf(e), e]));
  const records: SubjectRecord[] = [];
  for (const o of result.connectionOutcomes) {
    const owner = subjects.get(o.connectionId);
    if (!owner || owner.tenantId !== o.tenantId) continue;
    for (const id of o.eventIds) {
      const key = eventKeyOf({ tenantId: o.tenantId, id });
      const event = byKey.get(key);
      if (!event || !recorded.has(key)) continue;
      records.push({
        tenantId: o.tenantId,
        eventId: id,
        subject: owner.subject,
        connectionId: o.connectionId,
        outcome: o.outcome,
        channel: event.channel,
        type: event.type,
        at: at.toISOString(),
      });
    }
  }
  return records;
}

/**
 * The records of a targeted retry (one connection's messages): its outcome for each event it
 * carried, when the connection still names a subject of the events' tenant.
 */
export function targetedSubjectRecords(
  delivery: Pick<TargetedDelivery, 'connectionId' | 'events'>,
  owner: { readonly tenantId: string; readonly subject: string },
  outcome: 'delivered' | 'gone' | 'failed',
  at: Date,
): SubjectRecord[] {
  return delivery.events
    .filter((e) => e.tenantId === owner.tenantId)
    .map((e) => ({
      tenantId: e.tenantId,
      eventId: e.id,
      subject: owner.subject,
      connectionId: delivery.connectionId,
      outcome,
      channel: e.channel,
      at: at.toISOString(),
    }));
}
