/**
 * Items of the audit table (single-table; see `topology.tables.audit`): schemas, key derivation
 * and envelope → item. Pure module: no AWS imports. `src/aws/auditRepository.ts` is the only
 * module that reads or writes the table.
 *
 * | item           | pk                        | sk                                        | index keys                   |
 * | -------------- | ------------------------- | ----------------------------------------- | ---------------------------- |
 * | event          | `EVT#<tenant>#<eventId>`  | `EVENT`                                   | `channelKey`, `resourceKey`, `position`; `seqKey`, `seq` when numbered |
 * | attempt        | `EVT#<tenant>#<eventId>`  | `ATTEMPT#<path>#<at>#<target>#<attempt>`  | –                            |
 * | tenant note    | `TENANT#<id>`             | `NOTE#<at>#<noteId>`                      | –                            |
 * | endpoint attempt | `WEBHOOK#<tenant>#<endpointId>` | `ATTEMPT#<at>#<eventId>#<attempt>`  | –                            |
 * | receipt (and older subject records) | `EVT#<tenant>#<eventId>` | `SUBJECT#<subject>#<outcome>[#<connectionId>]` | `subjectKey`, `at` (index `bySubject`) |
 * | subject deliveries | `SUBJ#<tenant>#<subject>` | `DELIVERIES#<at>#<ulid>`                 | – (the partition is the subject's) |
 * | subject digest | `EVT#<tenant>#<eventId>`  | `SUBJECTS#<at>#<ulid>`                    | –                            |
 *
 * Per-subject records other than receipts are stored compactly (src/core/subjectItems.ts): one
 * `subject deliveries` item per connection and outcome lists the events of one write (what one
 * subject was sent: a coalesced message carries many), and one `subject digest` per event lists
 * the subjects of that write (whom one event reached). Reads expand both back into records.
 *
 * A webhook attempt is written twice: under its event (what happened to this event?) and under
 * its endpoint (what did this endpoint receive?), so both questions are one query.
 *
 * Event ids are scoped per tenant (docs/names.md): the same id in two tenants is two events.
 * Every key is built with the key codec (src/core/keyCodec.ts), so no name can forge another's.
 */
import * as z from 'zod/mini';
import { type Envelope, envelopeSchema } from './envelope.js';
import { encodeKey, keyPrefix } from './keyCodec.js';

const isoTime = z.iso.datetime({ offset: true });

export const AUDIT_EVENT_SK = 'EVENT';
export const AUDIT_ATTEMPT_SK_PREFIX = keyPrefix(['ATTEMPT']);
export const AUDIT_NOTE_SK_PREFIX = keyPrefix(['NOTE']);

/** Partition of one event (its record and its attempts): event ids are unique per tenant. */
export function auditEventPk(tenantId: string, eventId: string): string {
  return encodeKey(['EVT', tenantId, eventId]);
}
export function auditTenantPk(tenantId: string): string {
  return encodeKey(['TENANT', tenantId]);
}
export function auditEndpointPk(tenantId: string, endpointId: string): string {
  return encodeKey(['WEBHOOK', tenantId, endpointId]);
}
/** Partition key of index `byChannel`: one tenant+channel, sorted by `position`. */
export function channelKeyOf(tenantId: string, channel: string): string {
  return encodeKey([tenantId, channel]);
}
/**
 * Partition key of index `bySeq`: one tenant+channel's sequence history (epoch), sorted by `seq`.
 * The epoch is part of the key so a new history starting again at 1 never mixes with an old one.
 */
export function seqKeyOf(tenantId: string, channel: string, epoch: string): string {
  return encodeKey(['SEQ', tenantId, channel, epoch]);
}
/** Partition key of index `byResource`: one tenant+resource, sorted by `position`. */
export function resourceKeyOf(tenantId: string, resourceId: string): string {
  return encodeKey([tenantId, resourceId]);
}

/** The audit record of one event, as stored. */
export const auditEventItemSchema = z.object({
  pk: z.string(),
  sk: z.literal(AUDIT_EVENT_SK),
  kind: z.literal('event'),
  eventId: z.string(),
  /** The event's tenant (also in the envelope): the scope of `eventId`. */
  tenantId: z.optional(z.string()),
  channelKey: z.string(),
  /** Absent when the event has no resourceId (a GSI key attribute cannot be null). */
  resourceKey: z.optional(z.string()),
  position: z.string(),
  /** Present when the event has a sequence number (index `bySeq`). */
  seqKey: z.optional(z.string()),
  seq: z.optional(z.number().check(z.int(), z.positive())),
  envelope: envelopeSchema,
  /** When the audit consumer wrote the record (differs from `envelope.time`, when the change happened). */
  recordedAt: isoTime,
});
export type AuditEventItem = z.infer<typeof auditEventItemSchema>;

/** Which delivery path made an attempt. */
export const deliveryPathSchema = z.enum(['websocket', 'webhook']);
export type DeliveryPath = z.infer<typeof deliveryPathSchema>;

/**
 * Outcome of one delivery attempt:
 * `delivered` (accepted by the receiver), `failed` (may be retried: see `nextAttemptAt`),
 * `gone` (WebSocket connection closed, 410), `refused` (never attempted: e.g. a private address
 * in production, a payload too large; the client was told to refresh), `dead-lettered`
 * (retries exhausted; parked in the DLQ).
 */
export const attemptOutcomeSchema = z.enum(['delivered', 'failed', 'gone', 'refused', 'dead-lettered']);
export type AttemptOutcome = z.infer<typeof attemptOutcomeSchema>;

/** What a caller records for one delivery attempt. */
export const deliveryAttemptSchema = z.object({
  path: deliveryPathSchema,
  /** WebSocket connection id, or webhook endpoint id. */
  target: z.string().check(z.minLength(1)),
  /** Who the target belongs to, when known (the token's subject, the endpoint's URL). */
  subject: z.optional(z.string()),
  tenantId: z.optional(z.string()),
  outcome: attemptOutcomeSchema,
  statusCode: z.optional(z.number().check(z.int())),
  /** Webhooks: the start of the receiver's response body (at most 1 KB, src/core/webhookEvidence.ts). */
  responseBody: z.optional(z.string()),
  responseBodyTruncated: z.optional(z.literal(true)),
  error: z.optional(z.string()),
  durationMs: z.number().check(z.nonnegative()),
  /** 1 for the first attempt. */
  attempt: z.number().check(z.int(), z.positive()),
  /** When the next attempt is scheduled (only for `failed` attempts that will be retried). */
  nextAttemptAt: z.optional(isoTime),
  /** When the attempt started. */
  at: isoTime,
  /** WebSocket fan-out only: the sums of one event's fan-out to all its subscribers (target `fanout`), or to one shard's when the fan-out was split into chunks (target `fanout/shard-<n>`). */
  fanout: z.optional(
    z.object({
      subscribers: z.number().check(z.int(), z.nonnegative()),
      delivered: z.number().check(z.int(), z.nonnegative()),
      gone: z.number().check(z.int(), z.nonnegative()),
      /** Deliveries handed to a per-connection retry (targeted delivery message on the fan-out queue). */
      requeued: z.number().check(z.int(), z.nonnegative()),
      /** Deliveries that could not even be re-queued. */
      failed: z.number().check(z.int(), z.nonnegative()),
      refreshed: z.number().check(z.int(), z.nonnegative()),
      /** WebSocket messages that carried this event (coalesced messages carry several events). */
      messages: z.number().check(z.int(), z.nonnegative()),
      /**
       * Whether each subscriber also has a subject record of this event (`per-subject`), or the
       * channel had more subscribers than the per-subject limit and this summary is all there is
       * (`summary-only`). Absent on records written before subject records existed.
       */
      subjectRecords: z.optional(z.enum(['per-subject', 'summary-only'])),
      /**
       * Per-subject fan-outs to at most 100 subscribers: whom the event reached, as a JSON list of
       * `[subject, connectionId, outcome]` (what a subject digest holds otherwise: carried here,
       * the fan-out writes one item per event fewer). Read by `src/aws/auditRepository.ts`.
       */
      subjects: z.optional(z.string()),
    }),
  ),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

export const auditAttemptItemSchema = z.extend(deliveryAttemptSchema, {
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_ATTEMPT_SK_PREFIX)),
  kind: z.literal('attempt'),
  eventId: z.string(),
});
export type AuditAttemptItem = z.infer<typeof auditAttemptItemSchema>;

export const auditEndpointAttemptItemSchema = z.extend(deliveryAttemptSchema, {
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_ATTEMPT_SK_PREFIX)),
  kind: z.literal('endpointAttempt'),
  eventId: z.string(),
});
export type AuditEndpointAttemptItem = z.infer<typeof auditEndpointAttemptItemSchema>;

export function toAuditEndpointAttemptItem(
  tenantId: string,
  eventId: string,
  attempt: DeliveryAttempt,
): AuditEndpointAttemptItem {
  return {
    ...attempt,
    pk: auditEndpointPk(tenantId, attempt.target),
    sk: encodeKey(['ATTEMPT', new Date(attempt.at).toISOString(), eventId, attempt.attempt]),
    kind: 'endpointAttempt',
    eventId,
  };
}

/** A note about a tenant for operators (e.g. a webhook endpoint disabled after repeated failures). */
export const tenantNoteSchema = z.object({
  code: z.string().check(z.minLength(1)),
  message: z.string().check(z.minLength(1)),
  details: z.optional(z.record(z.string(), z.unknown())),
});
export type TenantNote = z.infer<typeof tenantNoteSchema>;

export const auditTenantNoteItemSchema = z.extend(tenantNoteSchema, {
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_NOTE_SK_PREFIX)),
  kind: z.literal('note'),
  tenantId: z.string(),
  at: isoTime,
});
export type AuditTenantNoteItem = z.infer<typeof auditTenantNoteItemSchema>;

export function toAuditEventItem(envelope: Envelope, recordedAt: string): AuditEventItem {
  return {
    pk: auditEventPk(envelope.tenantId, envelope.id),
    sk: AUDIT_EVENT_SK,
    kind: 'event',
    eventId: envelope.id,
    tenantId: envelope.tenantId,
    channelKey: channelKeyOf(envelope.tenantId, envelope.channel),
    ...(envelope.resourceId !== null
      ? { resourceKey: resourceKeyOf(envelope.tenantId, envelope.resourceId) }
      : {}),
    position: envelope.position,
    ...(envelope.seq !== undefined && envelope.epoch !== undefined
      ? { seqKey: seqKeyOf(envelope.tenantId, envelope.channel, envelope.epoch), seq: envelope.seq }
      : {}),
    envelope,
    recordedAt,
  };
}

/** Attempts sort by path, then time, under their event; target and attempt number make the key unique. */
export function attemptSortKey(attempt: Pick<DeliveryAttempt, 'path' | 'at' | 'target' | 'attempt'>): string {
  return encodeKey([
    'ATTEMPT',
    attempt.path,
    new Date(attempt.at).toISOString(),
    attempt.target,
    attempt.attempt,
  ]);
}

/** The attempt's `tenantId` is the event's: the attempt is stored under the event's partition. */
export function toAuditAttemptItem(
  tenantId: string,
  eventId: string,
  attempt: DeliveryAttempt,
): AuditAttemptItem {
  return {
    ...attempt,
    tenantId,
    pk: auditEventPk(tenantId, eventId),
    sk: attemptSortKey(attempt),
    kind: 'attempt',
    eventId,
  };
}

export function toAuditTenantNoteItem(
  tenantId: string,
  note: TenantNote,
  at: string,
  noteId: string,
): AuditTenantNoteItem {
  return {
    ...note,
    pk: auditTenantPk(tenantId),
    sk: encodeKey(['NOTE', new Date(at).toISOString(), noteId]),
    kind: 'note',
    tenantId,
    at,
  };
}

/**
 * What happened to one event for one subject (the token's `sub`), per connection:
 * `delivered` (posted live), `gone` (the connection had closed, 410), `failed` (the post failed and
 * was handed to a retry), `refresh` (the client was told to reload instead: payload too large),
 * `replayed` (sent in a resume reply), `received` (the client acknowledged it: a receipt).
 */
export const SUBJECT_OUTCOMES = ['delivered', 'gone', 'failed', 'refresh', 'replayed', 'received'] as const;
export const subjectOutcomeSchema = z.enum(SUBJECT_OUTCOMES);
export type SubjectOutcome = z.infer<typeof subjectOutcomeSchema>;

export const AUDIT_SUBJECT_SK_PREFIX = keyPrefix(['SUBJECT']);

/** What a caller records for one subject and one event. */
export const subjectRecordSchema = z.object({
  tenantId: z.string().check(z.minLength(1)),
  eventId: z.string().check(z.minLength(1)),
  subject: z.string().check(z.minLength(1)),
  connectionId: z.string().check(z.minLength(1)),
  outcome: subjectOutcomeSchema,
  /** The event's channel and type (copied so a subject's history reads without the events). */
  channel: z.string().check(z.minLength(1)),
  /** Absent on a targeted retry's record (the retry carries event ids and channels only). */
  type: z.optional(z.string().check(z.minLength(1))),
  at: isoTime,
});
export type SubjectRecord = z.infer<typeof subjectRecordSchema>;

/** Partition key of index `bySubject`: one tenant+subject, sorted by `at`. */
export function subjectKeyOf(tenantId: string, subject: string): string {
  return encodeKey(['SUBJ', tenantId, subject]);
}

/**
 * One item per event, subject, outcome and connection; a receipt is one per event and subject
 * (whichever connection sent it), so acknowledging twice changes nothing.
 */
export function subjectRecordSortKey(
  record: Pick<SubjectRecord, 'subject' | 'outcome' | 'connectionId'>,
): string {
  return record.outcome === 'received'
    ? encodeKey(['SUBJECT', record.subject, record.outcome])
    : encodeKey(['SUBJECT', record.subject, record.outcome, record.connectionId]);
}

export const auditSubjectItemSchema = z.extend(subjectRecordSchema, {
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_SUBJECT_SK_PREFIX)),
  kind: z.literal('subject'),
  subjectKey: z.string(),
});
export type AuditSubjectItem = z.infer<typeof auditSubjectItemSchema>;

export function toAuditSubjectItem(record: SubjectRecord): AuditSubjectItem {
  return {
    ...record,
    at: new Date(record.at).toISOString(),
    pk: auditEventPk(record.tenantId, record.eventId),
    sk: subjectRecordSortKey(record),
    kind: 'subject',
    subjectKey: subjectKeyOf(record.tenantId, record.subject),
  };
}

export const AUDIT_SUBJECT_DELIVERIES_SK_PREFIX = keyPrefix(['DELIVERIES']);
export const AUDIT_SUBJECT_DIGEST_SK_PREFIX = keyPrefix(['SUBJECTS']);
