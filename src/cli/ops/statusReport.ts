/**
 * `outbox-relay status` as data: what was measured (a snapshot) and what of it needs attention.
 * Pure, so "green" and "red" are tested without a runtime; the command gathers the snapshot.
 */

export interface DlqSnapshot {
  readonly kind: string;
  /** Visible + in flight. */
  readonly depth: number;
  /** Age of the oldest message among those sampled (seconds), when any. */
  readonly oldestAgeSeconds?: number | undefined;
  /** How many messages the age was read from (SQS returns no order: a sample). */
  readonly sampled: number;
}

export interface EndpointSnapshot {
  readonly id: string;
  readonly tenantId: string;
  readonly url: string;
  readonly enabled: boolean;
  readonly disabledReason?: string | undefined;
  /** Seconds until its open circuit lets a probe through; undefined when closed. */
  readonly circuitOpenForSeconds?: number | undefined;
  readonly failureStreak: number;
}

export interface StatusSnapshot {
  readonly target: string;
  readonly at: string;
  readonly dlqs: readonly DlqSnapshot[];
  /** Entries in the last `quarantineDays` days (`quarantineCapped`: at least this many). */
  readonly quarantine: { readonly count: number; readonly capped: boolean; readonly days: number };
  readonly endpoints: readonly EndpointSnapshot[];
  /** The stream's iterator age in seconds, or why it is not available here. */
  readonly iteratorAge: { readonly seconds: number } | { readonly unavailable: string };
}

export interface StatusAssessment {
  readonly ok: boolean;
  /** One line per thing that needs attention, with the command that looks into it. */
  readonly attention: readonly string[];
}

/** An iterator age above this means the publisher is falling behind the outbox. */
export const ITERATOR_AGE_ATTENTION_SECONDS = 60;

export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function assessStatus(snapshot: StatusSnapshot): StatusAssessment {
  const attention: string[] = [];
  for (const dlq of snapshot.dlqs) {
    if (dlq.depth > 0)
      attention.push(
        `${dlq.kind} DLQ holds ${dlq.depth} message(s)${dlq.oldestAgeSeconds !== undefined ? `, oldest ${formatAge(dlq.oldestAgeSeconds)}` : ''}: npx outbox-relay dlq show ${dlq.kind}`,
      );
  }
  if (snapshot.quarantine.count > 0)
    attention.push(
      `quarantine holds ${snapshot.quarantine.capped ? 'at least ' : ''}${snapshot.quarantine.count} row(s): npx outbox-relay dlq list quarantine`,
    );
  for (const endpoint of snapshot.endpoints) {
    if (!endpoint.enabled)
      attention.push(
        `webhook endpoint ${endpoint.id} (${endpoint.tenantId}) is disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ''}: npx outbox-relay webhooks show ${endpoint.id}`,
      );
    else if (endpoint.circuitOpenForSeconds !== undefined)
      attention.push(
        `webhook endpoint ${endpoint.id} (${endpoint.tenantId}) has its circuit open for ${formatAge(endpoint.circuitOpenForSeconds)} after ${endpoint.failureStreak} failures: npx outbox-relay webhooks test ${endpoint.id}`,
      );
  }
  if ('seconds' in snapshot.iteratorAge && snapshot.iteratorAge.seconds > ITERATOR_AGE_ATTENTION_SECONDS)
    attention.push(`the publisher is ${formatAge(snapshot.iteratorAge.seconds)} behind the outbox stream`);
  return { ok: attention.length === 0, attention };
}
