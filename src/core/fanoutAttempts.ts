/**
 * The audit attempt records the fan-out writes: one summary per event (or per event and shard of
 * a chunked fan-out) and one per event of a targeted retry. Classifies what happened into the
 * audit's outcomes; the handler only writes the records.
 */
import type { DeliveryAttempt } from './auditRecord.js';
import type { EventFanoutSummary, TargetedOutcome } from './fanoutDelivery.js';
import type { TargetedDelivery } from './targetedDelivery.js';

/** The audit target of a fan-out summary: `fanout`, or `fanout/shard-N` for one chunk's shard. */
export function fanoutSummaryTarget(shard: number | undefined): string {
  return shard === undefined ? 'fanout' : `fanout/shard-${shard}`;
}

/**
 * Any failed or re-queued connection makes the event's attempt `failed`; an event that reached
 * nobody because it was replaced by `refresh` frames is `refused`; otherwise `delivered`.
 */
export function summaryOutcome(
  summary: Pick<EventFanoutSummary, 'failed' | 'requeued' | 'refreshed' | 'delivered'>,
): 'failed' | 'refused' | 'delivered' {
  if (summary.failed > 0 || summary.requeued > 0) return 'failed';
  if (summary.refreshed > 0 && summary.delivered === 0) return 'refused';
  return 'delivered';
}

export function summaryAttempt(
  summary: EventFanoutSummary,
  startedAt: Date,
  durationMs: number,
  subjectRecords?: 'per-subject' | 'summary-only',
  /** The event's subjects as JSON (`summarySubjectsByEvent`), carried in place of a digest. */
  subjects?: string,
): DeliveryAttempt {
  return {
    path: 'websocket',
    target: fanoutSummaryTarget(summary.shard),
    tenantId: summary.tenantId,
    outcome: summaryOutcome(summary),
    durationMs,
    attempt: 1,
    at: startedAt.toISOString(),
    fanout: {
      subscribers: summary.subscribers,
      delivered: summary.delivered,
      gone: summary.gone,
      requeued: summary.requeued,
      failed: summary.failed,
      refreshed: summary.refreshed,
      messages: summary.messages,
      ...(subjectRecords ? { subjectRecords } : {}),
      ...(subjects ? { subjects } : {}),
    },
  };
}

/** What the handler did with a failed targeted delivery, for its audit outcome. */
export type TargetedDisposition = 'retried' | 'dead-lettered';

/**
 * The attempt record of a targeted delivery (without tenant: one per event, which adds its own).
 * A failure carries the error's message; `disposition` says whether it was retried or given up.
 */
export function targetedAttempt(
  delivery: Pick<TargetedDelivery, 'connectionId' | 'attempt'>,
  outcome: TargetedOutcome,
  disposition: TargetedDisposition | undefined,
  startedAt: Date,
  durationMs: number,
): Omit<DeliveryAttempt, 'tenantId'> {
  const base = {
    path: 'websocket' as const,
    target: delivery.connectionId,
    attempt: delivery.attempt + 1,
    at: startedAt.toISOString(),
    durationMs,
  };
  if (outcome.kind !== 'failed') return { ...base, outcome: outcome.kind };
  const error = errorText(outcome.error);
  return { ...base, outcome: disposition === 'dead-lettered' ? 'dead-lettered' : 'failed', error };
}

/** The audit keeps a sentence, not a stack: the error's message, or its string form. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
