/**
 * Per-subject records of what reached a client: the events a resume or fetch replayed to a
 * connection, and the receipts (`ack`) a client sends for events it processed. Pure: the caller
 * passes the audit reads and writes as ports.
 */
import type { SubjectOutcome, SubjectRecord } from './auditRecord.js';
import type { Envelope } from './envelope.js';
import { type ConnectionIdentity, isChannelAllowed } from './token.js';

export interface ReceiptPorts {
  /** The tenant's audited events with these ids; unknown ids are simply absent. */
  getEvents(tenantId: string, eventIds: readonly string[]): Promise<readonly Envelope[]>;
  recordSubjects(records: readonly SubjectRecord[]): Promise<void>;
}

export interface SubjectContext {
  readonly connectionId: string;
  readonly identity: ConnectionIdentity;
}

/** One record per event for the connection's subject. */
export function subjectRecordsOf(
  events: readonly Envelope[],
  context: SubjectContext,
  outcome: SubjectOutcome,
  at: Date,
): SubjectRecord[] {
  return events.map((event) => ({
    tenantId: event.tenantId,
    eventId: event.id,
    subject: context.identity.subject,
    connectionId: context.connectionId,
    outcome,
    channel: event.channel,
    type: event.type,
    at: at.toISOString(),
  }));
}

/**
 * Record the receipts of one `ack`: only the connection's tenant's events on channels its token
 * allows count; any other id (unknown, another tenant's, a forbidden channel's) is dropped the
 * same way, so the sender learns nothing from it. Returns how many receipts were recorded.
 * @example await recordReceipts(['01J…'], { connectionId, identity }, ports) // 1
 */
export async function recordReceipts(
  ids: readonly string[],
  context: SubjectContext,
  ports: ReceiptPorts,
  now: Date = new Date(),
): Promise<number> {
  const { tenantId, allowedChannels } = context.identity;
  const asked = new Set(ids);
  const events = (await ports.getEvents(tenantId, [...asked])).filter(
    (event) =>
      event.tenantId === tenantId && asked.has(event.id) && isChannelAllowed(allowedChannels, event.channel),
  );
  const unique = [...new Map(events.map((event) => [event.id, event])).values()];
  if (unique.length === 0) return 0;
  await ports.recordSubjects(subjectRecordsOf(unique, context, 'received', now));
  return unique.length;
}
