/**
 * The one module that reads and writes the audit table (item layout: `src/core/auditRecord.ts`):
 * the core repository (`auditCoreRepository.ts`: events, attempts, notes, the indexes) plus the
 * per-subject records (`src/core/subjectItems.ts`). The webhook functions use the core alone.
 *
 * ```ts
 * import { getAuditRepository } from '../../src/aws/auditRepository.js';
 * const audit = getAuditRepository(); // table name from AUDIT_TABLE
 * await audit.recordEvent(envelope); // idempotent on envelope.tenantId + envelope.id
 * await audit.recordAttempt(envelope.tenantId, envelope.id, { path: 'websocket', target: connectionId,
 *   outcome: 'delivered', durationMs: 12, attempt: 1, at: new Date().toISOString() });
 * const page = await audit.queryChannel(tenantId, channel, { afterPosition, limit: 100, ascending: true });
 * ```
 *
 * Tests and the offline runtime build one with `createAuditRepository({ client, tableName })`.
 * Reads parse every item with the schemas of `auditRecord.ts`; an item that does not parse raises
 * `CorruptAuditItemError` rather than being skipped.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import {
  AUDIT_SUBJECT_DELIVERIES_SK_PREFIX,
  type AuditEventItem,
  type AuditSubjectItem,
  auditSubjectItemSchema,
  type SubjectRecord,
  subjectKeyOf,
  subjectRecordSchema,
  toAuditSubjectItem,
} from '../core/auditRecord.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { keepOwnItems } from '../core/foreignItems.js';
import { encodeKey } from '../core/keyCodec.js';
import {
  auditSubjectDeliveriesItemSchema,
  auditSubjectDigestItemSchema,
  compactSubjectRecords,
  expandSubjectItem,
  latestSubjectItems,
  subjectRecordsOfSummary,
  summarySubjectsSchema,
} from '../core/subjectItems.js';
import {
  AUDIT_INDEX_BY_SUBJECT,
  type AuditCoreRepository,
  type AuditRepositoryDeps,
  auditDepsFromEnv,
  BATCH_WRITES_IN_FLIGHT,
  CorruptAuditItemError,
  createAuditCoreRepository,
  type EventAttempts,
  parseAuditItem,
} from './auditCoreRepository.js';
import { batchWriteAll } from './batchCalls.js';
import { isAwsError } from './sdk/awsErrors.js';
import { documentSender, PutCommand, QueryCommand } from './sdk/dynamo.js';

export * from './auditCoreRepository.js';

/** A subject query reads at most this many records (an operator command, not a request path). */
export const MAX_SUBJECT_RECORDS = 10_000;

export interface EventWithAttempts extends Omit<EventAttempts, 'subjectItems'> {
  readonly event: AuditEventItem | undefined;
  /** Per-subject records (delivered, replayed, received, ...), sorted by subject. */
  readonly subjects: readonly AuditSubjectItem[];
}

export interface SubjectQueryOptions {
  /** Only records at or after this time. */
  readonly since?: Date;
  /** At most this many records (1–MAX_SUBJECT_RECORDS). */
  readonly limit: number;
}

export interface SubjectPage {
  /** The subject's records, oldest first. */
  readonly items: readonly AuditSubjectItem[];
  /** More records follow (the limit was reached). */
  readonly more: boolean;
}

export interface AuditRepository extends Omit<AuditCoreRepository, 'getEventWithAttempts'> {
  getEventWithAttempts(tenantId: string, eventId: string): Promise<EventWithAttempts>;
  /**
   * Record per-subject outcomes, grouped into one item per connection and outcome and one per
   * event (`src/core/subjectItems.ts`); reads keep the latest of each event, subject, outcome and
   * connection, so a repeat changes only its time. A `received` record is its own item and keeps
   * the first receipt's time (a conditional put), so acknowledging again changes nothing. With
   * `until` (ms since the epoch), no write starts after that moment: `skipped` says how many
   * records were left unwritten (the caller's time ran short).
   */
  recordSubjects(
    records: readonly SubjectRecord[],
    options?: {
      readonly until?: number;
      /** false: the events' fan-out summaries carry their subjects (`fanout.subjects`), so no digests. @default true */
      readonly digests?: boolean;
    },
  ): Promise<{ readonly skipped: number }>;
  /** A tenant+subject's records in time order (its own partition, and its receipts through index `bySubject`). */
  querySubject(tenantId: string, subject: string, options: SubjectQueryOptions): Promise<SubjectPage>;
}

/** A stored subject item as records: a receipt (or an older record) as it is, a deliveries item or digest expanded. */
function subjectItemsOf(raw: Record<string, unknown>): AuditSubjectItem[] {
  if (raw.kind === 'subjectDeliveries')
    return expandSubjectItem(parseAuditItem(auditSubjectDeliveriesItemSchema, raw));
  if (raw.kind === 'subjectDigest')
    return expandSubjectItem(parseAuditItem(auditSubjectDigestItemSchema, raw));
  return [parseAuditItem(auditSubjectItemSchema, raw)];
}

export function createAuditRepository(deps: AuditRepositoryDeps): AuditRepository {
  const { tableName, onForeignItems } = deps;
  const client = documentSender(deps.client);
  const core = createAuditCoreRepository(deps);

  /** Put `items` in BatchWrites of 25; returns the indexes of those no BatchWrite started for (past `until`). */
  async function batchPutItems(items: readonly Record<string, unknown>[], until: number): Promise<number[]> {
    const indexOf = new Map(items.map((item, index) => [item, index]));
    const requests = items.map((Item) => ({ PutRequest: { Item } }));
    const { unstarted } = await batchWriteAll(client, tableName, requests, {
      inFlight: BATCH_WRITES_IN_FLIGHT,
      until,
    });
    return unstarted.flatMap((request) =>
      'PutRequest' in request ? [indexOf.get(request.PutRequest.Item) ?? -1] : [],
    );
  }

  /** Page through a subject query until it holds `limit` records (a deliveries item holds many). */
  async function readSubjectRecords(
    query: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey' | 'ScanIndexForward'>,
    limit: number,
  ): Promise<{ items: AuditSubjectItem[]; more: boolean }> {
    const items: AuditSubjectItem[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          ...query,
          TableName: tableName,
          ScanIndexForward: true,
          Limit: limit - items.length,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const raw of page.Items ?? []) items.push(...subjectItemsOf(raw));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined && items.length < limit);
    return { items, more: exclusiveStartKey !== undefined };
  }

  return {
    ...core,

    async getEventWithAttempts(tenantId, eventId) {
      const { event, attempts, subjectItems } = await core.getEventWithAttempts(tenantId, eventId);
      const carried: AuditSubjectItem[] = [];
      const shown = attempts.map((attempt) => {
        const text = attempt.fanout?.subjects;
        if (!attempt.fanout || text === undefined) return attempt;
        const parsed = summarySubjectsSchema.safeParse(text);
        if (!parsed.success)
          throw new CorruptAuditItemError({ pk: attempt.pk, sk: attempt.sk }, parsed.error.issues);
        // The fan-out records the event before delivering it, so its channel and type are here.
        if (event)
          carried.push(
            ...subjectRecordsOfSummary({ tenantId, eventId, at: attempt.at }, parsed.data, event.envelope),
          );
        const { subjects: _carried, ...fanout } = attempt.fanout;
        return { ...attempt, fanout };
      });
      const subjects = latestSubjectItems([...carried, ...subjectItems.flatMap(subjectItemsOf)]).sort(
        (a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0),
      );
      return { event, attempts: shown, subjects };
    },

    async recordSubjects(records, options = {}) {
      const until = options.until ?? Number.POSITIVE_INFINITY;
      const parsed = records.map((record) => subjectRecordSchema.parse(record));
      const receipts = parsed.filter((r) => r.outcome === 'received').map(toAuditSubjectItem);
      // Grouped per connection (what a subject was sent) and per event (whom it reached): a
      // coalesced message's records are one write per connection, not one per event.
      const others = parsed.filter((r) => r.outcome !== 'received');
      const { deliveries, digests } = compactSubjectRecords(others, (ms) => ulid(ms), {
        digests: options.digests !== false,
      });
      const compacted = [...deliveries, ...digests];
      const unstarted = await batchPutItems(
        compacted.map(({ item }) => item),
        until,
      );
      // A record counts as skipped when either of its items was left unwritten.
      const left = new Set<number>();
      for (const index of unstarted) for (const r of compacted[index]?.records ?? []) left.add(r);
      let skipped = left.size;
      await mapWithConcurrency(receipts, 10, async (item) => {
        if (Date.now() >= until) {
          skipped += 1;
          return;
        }
        try {
          await client.send(
            new PutCommand({
              TableName: tableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error) {
          // Already acknowledged: the first receipt stands.
          if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
        }
      });
      return { skipped };
    },

    async querySubject(tenantId, subject, options) {
      if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_SUBJECT_RECORDS) {
        throw new RangeError(
          `limit must be an integer from 1 to ${MAX_SUBJECT_RECORDS}, got ${options.limit}`,
        );
      }
      const key = subjectKeyOf(tenantId, subject);
      const since = options.since?.toISOString();
      // Two sources, each in time order: receipts (and records of earlier versions) through index
      // `bySubject`, the deliveries items from the subject's own partition (their sort key starts
      // with the time). Each is read until it holds `limit` records; the first `limit` of both
      // merged are then exact.
      const [indexed, partition] = await Promise.all([
        readSubjectRecords(
          {
            IndexName: AUDIT_INDEX_BY_SUBJECT,
            KeyConditionExpression: since ? 'subjectKey = :k AND #at >= :since' : 'subjectKey = :k',
            ...(since ? { ExpressionAttributeNames: { '#at': 'at' } } : {}),
            ExpressionAttributeValues: { ':k': key, ...(since ? { ':since': since } : {}) },
          },
          options.limit,
        ),
        readSubjectRecords(
          {
            KeyConditionExpression: 'pk = :k AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':k': key,
              ':from': since ? encodeKey(['DELIVERIES', since]) : AUDIT_SUBJECT_DELIVERIES_SK_PREFIX,
              // Every time part sorts below `~`.
              ':to': `${AUDIT_SUBJECT_DELIVERIES_SK_PREFIX}~`,
            },
          },
          options.limit,
        ),
      ]);
      const items = [...indexed.items, ...partition.items];
      // A deliveries item holds many records: keep the latest of each, in time order, up to the limit.
      const latest = latestSubjectItems(items).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      const cut = latest.length > options.limit;
      const own = keepOwnItems(
        latest.slice(0, options.limit),
        { tenantId, channel: subject },
        (item) => ({ tenantId: item.tenantId, channel: item.subject }),
        'subjectHistory',
        onForeignItems,
      );
      return { items: own, more: cut || indexed.more || partition.more };
    },
  };
}

let fromEnv: AuditRepository | undefined;

/** The audit repository for the table named by `AUDIT_TABLE`, on the shared document client. */
export function getAuditRepository(): AuditRepository {
  fromEnv ??= createAuditRepository(auditDepsFromEnv());
  return fromEnv;
}
