/**
 * Per-subject records, stored compactly. A fan-out to 100 subscribers used to write one item per
 * event and subscriber (100 writes per event, two write units each with the `bySubject` index);
 * a coalesced message carries many events to one connection, so the records of one write are
 * grouped instead:
 * - per subject, connection and outcome, one **deliveries** item listing the events, in the
 *   subject's own partition sorted by time (what was agent X sent?);
 * - per event, one **digest** item listing the subjects, connections and outcomes (in the event's
 *   partition: whom did event Y reach?).
 * Reads expand both back into one record per event, subject, outcome and connection, the latest
 * of each kept (a repeated write overwrote the same item when each record was its own).
 * Receipts (`received`) are not grouped: each is one conditional put, so the first one stands.
 * Pure.
 */
import * as z from 'zod/mini';
import {
  AUDIT_SUBJECT_DELIVERIES_SK_PREFIX,
  AUDIT_SUBJECT_DIGEST_SK_PREFIX,
  type AuditSubjectItem,
  auditEventPk,
  type SubjectRecord,
  subjectKeyOf,
  subjectOutcomeSchema,
  toAuditSubjectItem,
} from './auditRecord.js';
import { encodeKey } from './keyCodec.js';

const isoTime = z.iso.datetime({ offset: true });

/**
 * A list stored as one JSON string attribute: DynamoDB parses and sizes a list of 100 maps far
 * more slowly than one string of the same text (DynamoDB Local took ~470 such items a second
 * against ~1,700 as strings), and nothing queries inside the list.
 */
function jsonList<T>(entry: z.ZodMiniType<T>, what: string) {
  const list = z.array(entry).check(z.minLength(1));
  return z.pipe(
    z.string(),
    z.transform((text, ctx) => {
      try {
        const parsed = list.safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
      } catch {
        // fall through
      }
      ctx.issues.push({ code: 'custom', message: `${what} must be a JSON list of entries`, input: text });
      return z.NEVER;
    }),
  );
}

const name = z.string().check(z.minLength(1));

/** One event in a subject deliveries item: `[id, channel, type]` (type null when not recorded). */
export const subjectDeliveryEventSchema = z.tuple([name, name, z.nullable(name)]);
export type SubjectDeliveryEvent = z.infer<typeof subjectDeliveryEventSchema>;

/**
 * What one connection of a subject was sent in one write, with one outcome (`delivered`,
 * `refresh`, `gone`, `failed`, `replayed`): the events, in the order recorded. In the subject's
 * own partition (`pk` = the subject key), sorted by time: read from the table itself, so it is
 * not copied into index `bySubject`. `events` is stored as a JSON string.
 */
export const auditSubjectDeliveriesItemSchema = z.object({
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_SUBJECT_DELIVERIES_SK_PREFIX)),
  kind: z.literal('subjectDeliveries'),
  tenantId: name,
  subject: name,
  connectionId: name,
  outcome: subjectOutcomeSchema,
  at: isoTime,
  events: jsonList(subjectDeliveryEventSchema, 'events'),
});
/** As read (events parsed). */
export type AuditSubjectDeliveriesItem = z.output<typeof auditSubjectDeliveriesItemSchema>;
/** As stored (events a JSON string). */
export type StoredSubjectDeliveriesItem = z.input<typeof auditSubjectDeliveriesItemSchema>;

/** One subject's connection and outcome in a digest: `[subject, connectionId, outcome]`. */
export const subjectDigestEntrySchema = z.tuple([name, name, subjectOutcomeSchema]);
export type SubjectDigestEntry = z.infer<typeof subjectDigestEntrySchema>;

/**
 * Whom one event reached in one write: per subject and connection, the outcome. In the event's
 * partition. `entries` is stored as a JSON string.
 */
export const auditSubjectDigestItemSchema = z.object({
  pk: z.string(),
  sk: z.string().check(z.startsWith(AUDIT_SUBJECT_DIGEST_SK_PREFIX)),
  kind: z.literal('subjectDigest'),
  tenantId: name,
  eventId: name,
  channel: name,
  type: z.optional(name),
  at: isoTime,
  entries: jsonList(subjectDigestEntrySchema, 'entries'),
});
export type AuditSubjectDigestItem = z.output<typeof auditSubjectDigestItemSchema>;
export type StoredSubjectDigestItem = z.input<typeof auditSubjectDigestItemSchema>;

/**
 * At most this many events per deliveries item and entries per digest: 100 of names of at most
 * 256 bytes each keep an item near 80 KB at worst, far below DynamoDB's 400 KB.
 */
export const SUBJECT_ITEM_MAX_ENTRIES = 100;

/** An item to write and the records (indexes into the input) it holds. */
export interface CompactedItem<T> {
  readonly item: T;
  readonly records: readonly number[];
}

export interface CompactedSubjectRecords {
  readonly deliveries: readonly CompactedItem<StoredSubjectDeliveriesItem>[];
  readonly digests: readonly CompactedItem<StoredSubjectDigestItem>[];
}

const digestEntryKeyOf = (r: SubjectRecord): string => JSON.stringify([r.subject, r.connectionId, r.outcome]);

/** A digest's entries for these records of one event: one per subject, connection and outcome. */
function digestEntriesOf(records: readonly SubjectRecord[]): SubjectDigestEntry[] {
  const entries = new Map<string, SubjectDigestEntry>();
  for (const r of records)
    if (!entries.has(digestEntryKeyOf(r)))
      entries.set(digestEntryKeyOf(r), [r.subject, r.connectionId, r.outcome]);
  return [...entries.values()];
}

interface Group {
  readonly first: SubjectRecord;
  readonly at: string;
  readonly records: number[];
  readonly seen: Set<string>;
}

function groupBy(
  records: readonly SubjectRecord[],
  keyOf: (record: SubjectRecord, at: string) => string,
  entryKeyOf: (record: SubjectRecord) => string,
): Map<string, Group[]> {
  const groups = new Map<string, Group[]>();
  records.forEach((record, index) => {
    const at = new Date(record.at).toISOString();
    const key = keyOf(record, at);
    const chunks = groups.get(key) ?? [];
    let group = chunks.at(-1);
    const entry = entryKeyOf(record);
    if (group?.seen.has(entry)) {
      group.records.push(index); // the same record twice in one write: one entry holds both
      return;
    }
    if (!group || group.seen.size >= SUBJECT_ITEM_MAX_ENTRIES) {
      group = { first: record, at, records: [], seen: new Set() };
      chunks.push(group);
      groups.set(key, chunks);
    }
    group.seen.add(entry);
    group.records.push(index);
  });
  return groups;
}

/**
 * The items that hold `records` (receipts excluded: the caller writes those one by one).
 * `newId(atMs)` names each item (a ULID): two writes in the same millisecond never overwrite
 * each other's items.
 * @example compactSubjectRecords(records, (ms) => ulid(ms)).deliveries.length // connections × outcomes
 */
export function compactSubjectRecords(
  records: readonly SubjectRecord[],
  newId: (atMs: number) => string,
  options: { readonly digests?: boolean } = {},
): CompactedSubjectRecords {
  const key = (parts: readonly string[]) => JSON.stringify(parts);
  const byConnection = groupBy(
    records,
    (r, at) => key([r.tenantId, r.subject, r.connectionId, r.outcome, at]),
    (r) => r.eventId,
  );
  const deliveries = [...byConnection.values()].flat().map(({ first, at, records: held }) => {
    const events = new Map<string, SubjectDeliveryEvent>();
    for (const index of held) {
      const r = records[index] as SubjectRecord;
      if (!events.has(r.eventId)) events.set(r.eventId, [r.eventId, r.channel, r.type ?? null]);
    }
    const item: StoredSubjectDeliveriesItem = {
      pk: subjectKeyOf(first.tenantId, first.subject),
      sk: encodeKey(['DELIVERIES', at, newId(Date.parse(at))]),
      kind: 'subjectDeliveries',
      tenantId: first.tenantId,
      subject: first.subject,
      connectionId: first.connectionId,
      outcome: first.outcome,
      at,
      events: JSON.stringify([...events.values()]),
    };
    return { item, records: held };
  });
  // Skipped outright when the fan-out's summaries carry the subjects: this runs on its hot path.
  const byEvent =
    options.digests === false
      ? new Map<string, Group[]>()
      : groupBy(records, (r, at) => key([r.tenantId, r.eventId, at]), digestEntryKeyOf);
  const digests = [...byEvent.values()].flat().map(({ first, at, records: held }) => {
    const entries = digestEntriesOf(held.map((index) => records[index] as SubjectRecord));
    const type = held.map((index) => records[index]?.type).find((t) => t !== undefined);
    const item: StoredSubjectDigestItem = {
      pk: auditEventPk(first.tenantId, first.eventId),
      sk: encodeKey(['SUBJECTS', at, newId(Date.parse(at))]),
      kind: 'subjectDigest',
      tenantId: first.tenantId,
      eventId: first.eventId,
      channel: first.channel,
      ...(type ? { type } : {}),
      at,
      entries: JSON.stringify(entries),
    };
    return { item, records: held };
  });
  return { deliveries, digests };
}

/** The JSON list a fan-out summary carries for its event's subjects (`fanout.subjects`). */
export const summarySubjectsSchema = jsonList(subjectDigestEntrySchema, 'subjects');

/** The key of `summarySubjectsByEvent`'s map. */
export function summaryKeyOf(tenantId: string, eventId: string): string {
  return JSON.stringify([tenantId, eventId]);
}

/**
 * What each event's fan-out summary carries (`fanout.subjects`, a digest's entries) for these
 * records of one write, by `summaryKeyOf`; undefined when an event has more than
 * `SUBJECT_ITEM_MAX_ENTRIES` (then digests hold them all: a summary stays a small item).
 */
export function summarySubjectsByEvent(records: readonly SubjectRecord[]): Map<string, string> | undefined {
  const byEvent = new Map<string, SubjectRecord[]>();
  for (const r of records) {
    const key = summaryKeyOf(r.tenantId, r.eventId);
    byEvent.set(key, [...(byEvent.get(key) ?? []), r]);
  }
  const carried = new Map<string, string>();
  for (const [key, held] of byEvent) {
    const entries = digestEntriesOf(held);
    if (entries.length > SUBJECT_ITEM_MAX_ENTRIES) return undefined;
    carried.set(key, JSON.stringify(entries));
  }
  return carried;
}

/** The records a fan-out summary carries (its time, the event's channel and type). */
export function subjectRecordsOfSummary(
  summary: { readonly tenantId: string; readonly eventId: string; readonly at: string },
  subjects: readonly SubjectDigestEntry[],
  event: { readonly channel: string; readonly type: string },
): AuditSubjectItem[] {
  const { tenantId, eventId, at } = summary;
  const { channel, type } = event;
  return subjectRecordsOfDigest({ tenantId, eventId, at, channel, type, entries: [...subjects] }).map(
    toAuditSubjectItem,
  );
}

/** The records a deliveries item holds, one per event. */
export function subjectRecordsOfDeliveries(item: AuditSubjectDeliveriesItem): SubjectRecord[] {
  return item.events.map(([eventId, channel, type]) => ({
    tenantId: item.tenantId,
    eventId,
    subject: item.subject,
    connectionId: item.connectionId,
    outcome: item.outcome,
    channel,
    ...(type ? { type } : {}),
    at: item.at,
  }));
}

/** The records a digest (or a summary's subjects) holds, one per subject, connection and outcome. */
export function subjectRecordsOfDigest(
  item: Pick<AuditSubjectDigestItem, 'tenantId' | 'eventId' | 'channel' | 'type' | 'at' | 'entries'>,
): SubjectRecord[] {
  return item.entries.map(([subject, connectionId, outcome]) => ({
    tenantId: item.tenantId,
    eventId: item.eventId,
    subject,
    connectionId,
    outcome,
    channel: item.channel,
    ...(item.type ? { type: item.type } : {}),
    at: item.at,
  }));
}

/**
 * One item per event, subject, outcome and connection (a receipt: per event and subject), the
 * latest kept: what the table held when every record was its own item, overwritten by a repeat.
 * Keeps the order of first appearance.
 */
export function latestSubjectItems(items: Iterable<AuditSubjectItem>): AuditSubjectItem[] {
  const latest = new Map<string, AuditSubjectItem>();
  for (const item of items) {
    const key = `${item.pk}\u0000${item.sk}`;
    const held = latest.get(key);
    if (!held || Date.parse(item.at) > Date.parse(held.at)) latest.set(key, item);
  }
  return [...latest.values()];
}

/** A deliveries item or digest (as read: lists parsed) as the records it holds, in the one-item-per-record shape. */
export function expandSubjectItem(
  item: AuditSubjectDeliveriesItem | AuditSubjectDigestItem,
): AuditSubjectItem[] {
  const records =
    item.kind === 'subjectDeliveries' ? subjectRecordsOfDeliveries(item) : subjectRecordsOfDigest(item);
  return records.map(toAuditSubjectItem);
}
