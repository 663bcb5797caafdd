/**
 * The audit table's reads and writes without the per-subject records (item layout:
 * `src/core/auditRecord.ts`): what the webhook functions need, kept out of their bundles. The
 * whole repository, with the per-subject records, is `auditRepository.ts`.
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
import type * as z from 'zod/mini';
import { topology } from '../contract/topology.js';
import {
  AUDIT_ATTEMPT_SK_PREFIX,
  AUDIT_EVENT_SK,
  AUDIT_NOTE_SK_PREFIX,
  AUDIT_SUBJECT_DIGEST_SK_PREFIX,
  AUDIT_SUBJECT_SK_PREFIX,
  type AuditAttemptItem,
  type AuditEndpointAttemptItem,
  type AuditEventItem,
  type AuditTenantNoteItem,
  auditAttemptItemSchema,
  auditEndpointAttemptItemSchema,
  auditEndpointPk,
  auditEventItemSchema,
  auditEventPk,
  auditTenantNoteItemSchema,
  auditTenantPk,
  channelKeyOf,
  type DeliveryAttempt,
  deliveryAttemptSchema,
  resourceKeyOf,
  seqKeyOf,
  type TenantNote,
  tenantNoteSchema,
  toAuditAttemptItem,
  toAuditEndpointAttemptItem,
  toAuditEventItem,
  toAuditTenantNoteItem,
} from '../core/auditRecord.js';
import { type Envelope, envelopeSchema } from '../core/envelope.js';
import { type ForeignItemsSink, keepOwnItems } from '../core/foreignItems.js';
import { decodeKey, KeyDecodeError } from '../core/keyCodec.js';
import { batchGetAll, batchWriteAll } from './batchCalls.js';
import { requireEnv } from './env.js';
import { reportForeignItems } from './foreignItems.js';
import { isAwsError } from './sdk/awsErrors.js';
import {
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  PutCommand,
  QueryCommand,
  ScanCommand,
  unmarshallItem,
} from './sdk/dynamo.js';

export const AUDIT_INDEX_BY_CHANNEL = 'byChannel';
export const AUDIT_INDEX_BY_RESOURCE = 'byResource';
export const AUDIT_INDEX_BY_SEQ = 'bySeq';
export const AUDIT_INDEX_BY_SUBJECT = 'bySubject';

/** An item in the audit table that does not match its schema (written by something else, or by an older version). */
export class CorruptAuditItemError extends Error {
  override readonly name = 'CorruptAuditItemError';
  constructor(
    readonly key: { pk: unknown; sk: unknown },
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(
      `Audit item ${String(key.pk)}/${String(key.sk)} does not match its schema: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
}

export interface PositionQueryOptions {
  /** Only events strictly after this position (ascending) — the resume cursor. */
  readonly afterPosition?: string;
  /** Only events strictly before this position (useful with `ascending: false`). */
  readonly beforePosition?: string;
  /** At most this many events (1–1000). */
  readonly limit: number;
  /** Position order (oldest first) when true; newest first when false. */
  readonly ascending: boolean;
}

export interface PositionPage {
  /** Audit event records in the requested position order. */
  readonly items: readonly AuditEventItem[];
  /** The envelopes of `items`, in the same order. */
  readonly events: readonly Envelope[];
  /** Set when more events may follow: pass as `afterPosition` (ascending) or `beforePosition` (descending). */
  readonly nextPosition?: string;
}

export interface SeqQueryOptions {
  /** Only events numbered at least this (inclusive). */
  readonly fromSeq?: number;
  /** Only events numbered at most this (inclusive). */
  readonly toSeq?: number;
  /** At most this many events (1–1000). */
  readonly limit: number;
  /** Sequence order (lowest first) when true; highest first when false. */
  readonly ascending: boolean;
}

export interface SeqPage {
  readonly items: readonly AuditEventItem[];
  readonly events: readonly Envelope[];
  /** Set when more events may follow the page in the requested order. */
  readonly more: boolean;
}

export interface EventAttempts {
  readonly event: AuditEventItem | undefined;
  /** Sorted by path, then time. */
  readonly attempts: readonly AuditAttemptItem[];
  /** The event's per-subject items as stored (receipts, digests): `auditRepository.ts` reads them. */
  readonly subjectItems: readonly Record<string, unknown>[];
}

/**
 * What `recordEvent` did. `recorded: false` = the tenant already has an event with this id: the
 * same event again (`conflict` absent: the idempotent no-op), or a different event reusing the id
 * (`conflict` = the channel and type already recorded; the caller quarantines it).
 */
export interface RecordEventResult {
  readonly recorded: boolean;
  readonly conflict?: { readonly channel: string; readonly type: string };
}

/** The audit repository without the per-subject records (`auditRepository.ts` adds them). */
export interface AuditCoreRepository {
  /** Record an event; idempotent on `envelope.tenantId` + `envelope.id` (see `RecordEventResult`). */
  recordEvent(envelope: Envelope, now?: Date): Promise<RecordEventResult>;
  /**
   * The events among these that the table already holds: strongly consistent BatchGets of 100
   * keys (keys only), a few in flight. Lets a caller that must know an event is audited skip the
   * conditional put (one write each) for those the audit consumer has already recorded.
   */
  recordedAmong<T extends Pick<Envelope, 'tenantId' | 'id'>>(events: readonly T[]): Promise<T[]>;
  /** Record one delivery attempt of a tenant's event. Re-recording the same attempt (same key) overwrites it. */
  recordAttempt(tenantId: string, eventId: string, attempt: DeliveryAttempt): Promise<AuditAttemptItem>;
  /**
   * Record many attempts in BatchWrite requests of 25 (the fan-out's per-event summaries): one
   * round trip for a batch instead of one per event. Same items and overwrite semantics as
   * `recordAttempt`; throws if some could not be written after retrying the unprocessed ones.
   */
  recordAttempts(
    attempts: readonly { tenantId: string; eventId: string; attempt: DeliveryAttempt }[],
  ): Promise<void>;
  /** Record a webhook attempt under its endpoint too (`listEndpointAttempts`). */
  recordEndpointAttempt(tenantId: string, eventId: string, attempt: DeliveryAttempt): Promise<void>;
  /** An endpoint's webhook attempts, newest first. */
  listEndpointAttempts(
    tenantId: string,
    endpointId: string,
    options?: { limit?: number },
  ): Promise<readonly AuditEndpointAttemptItem[]>;
  /** The tenant's events with these ids (unknown ids are left out); one batch read per 100 ids. */
  getEvents(tenantId: string, eventIds: readonly string[]): Promise<AuditEventItem[]>;
  /** Record an operator-facing note about a tenant. */
  recordTenantNote(tenantId: string, note: TenantNote, now?: Date): Promise<AuditTenantNoteItem>;
  getEvent(tenantId: string, eventId: string): Promise<AuditEventItem | undefined>;
  getEventWithAttempts(tenantId: string, eventId: string): Promise<EventAttempts>;
  /**
   * The tenants that have an event with this id (operators who do not know the tenant). A scan
   * of the whole table: an operator command's fallback, never on a request path.
   */
  findEventTenants(eventId: string): Promise<string[]>;
  /** A tenant+channel's events in position order (index `byChannel`). */
  queryChannel(tenantId: string, channel: string, options: PositionQueryOptions): Promise<PositionPage>;
  /** A tenant+channel's events of one epoch in sequence order (index `bySeq`). */
  querySeq(tenantId: string, channel: string, epoch: string, options: SeqQueryOptions): Promise<SeqPage>;
  /** A tenant+resource's events in position order (index `byResource`). */
  queryResource(tenantId: string, resourceId: string, options: PositionQueryOptions): Promise<PositionPage>;
  /** A tenant's notes, newest first. */
  listTenantNotes(tenantId: string, options?: { limit?: number }): Promise<readonly AuditTenantNoteItem[]>;
}

export interface AuditRepositoryDeps {
  readonly client: DocumentClientLike;
  readonly tableName: string;
  /** Told about index items whose stored tenant/channel differ from the query's (dropped). */
  readonly onForeignItems?: ForeignItemsSink;
}

/** Parse a stored item, or throw `CorruptAuditItemError`. */
export function parseAuditItem<T>(schema: z.ZodMiniType<T>, item: Record<string, unknown>): T {
  const result = schema.safeParse(item);
  if (!result.success) throw new CorruptAuditItemError({ pk: item.pk, sk: item.sk }, result.error.issues);
  return result.data;
}

export function createAuditCoreRepository({
  client: clientLike,
  tableName,
  onForeignItems,
}: AuditRepositoryDeps): AuditCoreRepository {
  const client = documentSender(clientLike);
  async function queryByPosition(
    indexName: string,
    partitionAttribute: 'channelKey' | 'resourceKey',
    partitionValue: string,
    asked: { tenantId: string; channel?: string },
    options: PositionQueryOptions,
  ): Promise<PositionPage> {
    if (options.afterPosition !== undefined && options.beforePosition !== undefined) {
      throw new RangeError('Pass afterPosition or beforePosition, not both');
    }
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
      throw new RangeError(`limit must be an integer from 1 to 1000, got ${options.limit}`);
    }
    const values: Record<string, unknown> = { ':p': partitionValue };
    let condition = `${partitionAttribute} = :p`;
    if (options.afterPosition !== undefined) {
      condition += ' AND #position > :after';
      values[':after'] = options.afterPosition;
    } else if (options.beforePosition !== undefined) {
      condition += ' AND #position < :before';
      values[':before'] = options.beforePosition;
    }
    const input: QueryCommandInput = {
      TableName: tableName,
      IndexName: indexName,
      KeyConditionExpression: condition,
      // DynamoDB refuses an attribute name the expression does not use.
      ...(condition.includes('#position') ? { ExpressionAttributeNames: { '#position': 'position' } } : {}),
      ExpressionAttributeValues: values,
      ScanIndexForward: options.ascending,
      Limit: options.limit,
    };
    const items: AuditEventItem[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    let more = false;
    // Only event items carry the index keys, so one page normally suffices; loop in case DynamoDB
    // cut the page short (1 MB response limit).
    do {
      const page = await client.send(
        new QueryCommand({
          ...input,
          Limit: options.limit - items.length,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const raw of page.Items ?? []) items.push(parseAuditItem(auditEventItemSchema, raw));
      exclusiveStartKey = page.LastEvaluatedKey;
      more = exclusiveStartKey !== undefined;
    } while (more && items.length < options.limit);
    // The cursor comes from what was read, kept or not, so a dropped item cannot stall paging.
    const last = items.at(-1);
    const own = keepOwnItems(
      items,
      asked,
      (item) => ({
        tenantId: item.envelope.tenantId,
        ...(asked.channel !== undefined ? { channel: item.envelope.channel } : {}),
      }),
      'channelHistory',
      onForeignItems,
    );
    return {
      items: own,
      events: own.map((item) => item.envelope),
      ...(more && last ? { nextPosition: last.position } : {}),
    };
  }

  /**
   * Put `items` in BatchWrites of 25, a few in flight at once (one after another, 10,000
   * per-subject records cost 400 round trips). No BatchWrite starts at or after `until`; returns
   * how many items were left unwritten because of it.
   */
  async function batchPut(
    items: readonly Record<string, unknown>[],
    until = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    const requests = items.map((Item) => ({ PutRequest: { Item } }));
    const { skipped } = await batchWriteAll(client, tableName, requests, {
      inFlight: BATCH_WRITES_IN_FLIGHT,
      until,
    });
    return skipped;
  }

  async function queryPartition(pk: string, skPrefix: string, scanForward = true, limit?: number) {
    const items: Record<string, unknown>[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          // DynamoDB refuses an empty begins_with operand: no prefix means the whole partition.
          KeyConditionExpression: skPrefix === '' ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: skPrefix === '' ? { ':pk': pk } : { ':pk': pk, ':prefix': skPrefix },
          ScanIndexForward: scanForward,
          ExclusiveStartKey: exclusiveStartKey,
          ...(limit !== undefined ? { Limit: limit - items.length } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined && (limit === undefined || items.length < limit));
    return items;
  }

  return {
    async recordEvent(envelope, now = new Date()) {
      const item = toAuditEventItem(envelopeSchema.parse(envelope), now.toISOString());
      let existing: Record<string, unknown> | undefined;
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            // A repeat returns the stored record in the same call: no extra read on the hot path.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { recorded: true };
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
        existing = error.Item ? await unmarshallItem(error.Item) : undefined;
      }
      // Only on a repeat: tell the same event again from another event reusing the tenant's id
      // (read it when the store did not return it).
      existing ??= (
        await client.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: item.pk, sk: AUDIT_EVENT_SK },
            ConsistentRead: true,
          }),
        )
      ).Item;
      const stored = existing ? parseAuditItem(auditEventItemSchema, existing).envelope : undefined;
      if (stored && (stored.channel !== item.envelope.channel || stored.type !== item.envelope.type)) {
        return { recorded: false, conflict: { channel: stored.channel, type: stored.type } };
      }
      return { recorded: false };
    },

    async recordedAmong(events) {
      const pks = [...new Set(events.map((e) => auditEventPk(e.tenantId, e.id)))];
      const items = await batchGetAll(
        client,
        tableName,
        pks.map((pk) => ({ pk, sk: AUDIT_EVENT_SK })),
        { consistentRead: true, projection: 'pk', inFlight: BATCH_WRITES_IN_FLIGHT },
      );
      const found = new Set(items.flatMap((item) => (typeof item.pk === 'string' ? [item.pk] : [])));
      return events.filter((e) => found.has(auditEventPk(e.tenantId, e.id)));
    },

    async recordAttempt(tenantId, eventId, attempt) {
      const item = toAuditAttemptItem(tenantId, eventId, deliveryAttemptSchema.parse(attempt));
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
      return item;
    },

    async recordAttempts(attempts) {
      // One request may not name a key twice: the last attempt of a key wins, as with recordAttempt.
      const byKey = new Map<string, AuditAttemptItem>();
      for (const { tenantId, eventId, attempt } of attempts) {
        const item = toAuditAttemptItem(tenantId, eventId, deliveryAttemptSchema.parse(attempt));
        byKey.set(JSON.stringify([item.pk, item.sk]), item);
      }
      await batchPut([...byKey.values()]);
    },

    async recordEndpointAttempt(tenantId, eventId, attempt) {
      const item = toAuditEndpointAttemptItem(tenantId, eventId, deliveryAttemptSchema.parse(attempt));
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
    },

    async listEndpointAttempts(tenantId, endpointId, options = {}) {
      const items = await queryPartition(
        auditEndpointPk(tenantId, endpointId),
        AUDIT_ATTEMPT_SK_PREFIX,
        false,
        options.limit,
      );
      return items.map((raw) => parseAuditItem(auditEndpointAttemptItemSchema, raw));
    },

    async getEvents(tenantId, eventIds) {
      // One request may not name a key twice.
      const keys = [...new Set(eventIds)].map((id) => ({
        pk: auditEventPk(tenantId, id),
        sk: AUDIT_EVENT_SK,
      }));
      const found = (await batchGetAll(client, tableName, keys)).map((raw) =>
        parseAuditItem(auditEventItemSchema, raw),
      );
      // The key is built from the tenant, but check what came back against what was asked.
      return keepOwnItems(
        found,
        { tenantId },
        (item) => ({ tenantId: item.envelope.tenantId }),
        'eventLookup',
        onForeignItems,
      );
    },

    async recordTenantNote(tenantId, note, now = new Date()) {
      const item = toAuditTenantNoteItem(
        tenantId,
        tenantNoteSchema.parse(note),
        now.toISOString(),
        ulid(now.getTime()),
      );
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
      return item;
    },

    async getEvent(tenantId, eventId) {
      const result = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: auditEventPk(tenantId, eventId), sk: AUDIT_EVENT_SK },
        }),
      );
      return result.Item ? parseAuditItem(auditEventItemSchema, result.Item) : undefined;
    },

    async getEventWithAttempts(tenantId, eventId) {
      const items = await queryPartition(auditEventPk(tenantId, eventId), '');
      let event: AuditEventItem | undefined;
      const attempts: AuditAttemptItem[] = [];
      const subjectItems: Record<string, unknown>[] = [];
      for (const raw of items) {
        if (raw.sk === AUDIT_EVENT_SK) event = parseAuditItem(auditEventItemSchema, raw);
        else if (typeof raw.sk === 'string' && raw.sk.startsWith(AUDIT_ATTEMPT_SK_PREFIX)) {
          attempts.push(parseAuditItem(auditAttemptItemSchema, raw));
        } else if (
          typeof raw.sk === 'string' &&
          (raw.sk.startsWith(AUDIT_SUBJECT_SK_PREFIX) || raw.sk.startsWith(AUDIT_SUBJECT_DIGEST_SK_PREFIX))
        ) {
          subjectItems.push(raw);
        }
      }
      return { event, attempts, subjectItems };
    },

    async findEventTenants(eventId) {
      const tenants = new Set<string>();
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: tableName,
            FilterExpression: 'sk = :event AND eventId = :id',
            ExpressionAttributeValues: { ':event': AUDIT_EVENT_SK, ':id': eventId },
            ProjectionExpression: 'pk',
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          if (typeof item.pk !== 'string') continue;
          try {
            const [tag, tenantId, id] = decodeKey(item.pk);
            if (tag === 'EVT' && tenantId !== undefined && id === eventId) tenants.add(tenantId);
          } catch (error) {
            if (!(error instanceof KeyDecodeError)) throw error;
          }
        }
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return [...tenants].sort();
    },

    queryChannel(tenantId, channel, options) {
      return queryByPosition(
        AUDIT_INDEX_BY_CHANNEL,
        'channelKey',
        channelKeyOf(tenantId, channel),
        { tenantId, channel },
        options,
      );
    },

    async querySeq(tenantId, channel, epoch, options) {
      if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 1000) {
        throw new RangeError(`limit must be an integer from 1 to 1000, got ${options.limit}`);
      }
      const values: Record<string, unknown> = { ':k': seqKeyOf(tenantId, channel, epoch) };
      let condition = 'seqKey = :k';
      if (options.fromSeq !== undefined && options.toSeq !== undefined) {
        condition += ' AND seq BETWEEN :from AND :to';
        values[':from'] = options.fromSeq;
        values[':to'] = options.toSeq;
      } else if (options.fromSeq !== undefined) {
        condition += ' AND seq >= :from';
        values[':from'] = options.fromSeq;
      } else if (options.toSeq !== undefined) {
        condition += ' AND seq <= :to';
        values[':to'] = options.toSeq;
      }
      const items: AuditEventItem[] = [];
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: AUDIT_INDEX_BY_SEQ,
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ScanIndexForward: options.ascending,
            Limit: options.limit - items.length,
            ExclusiveStartKey: exclusiveStartKey,
          }),
        );
        for (const raw of page.Items ?? []) items.push(parseAuditItem(auditEventItemSchema, raw));
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey !== undefined && items.length < options.limit);
      return { items, events: items.map((item) => item.envelope), more: exclusiveStartKey !== undefined };
    },

    queryResource(tenantId, resourceId, options) {
      return queryByPosition(
        AUDIT_INDEX_BY_RESOURCE,
        'resourceKey',
        resourceKeyOf(tenantId, resourceId),
        { tenantId },
        options,
      );
    },

    async listTenantNotes(tenantId, options = {}) {
      const items = await queryPartition(auditTenantPk(tenantId), AUDIT_NOTE_SK_PREFIX, false, options.limit);
      return items.map((raw) => parseAuditItem(auditTenantNoteItemSchema, raw));
    },
  };
}

/** Batch calls one repository call keeps in flight at once (the attempt summaries always had 4). */
export const BATCH_WRITES_IN_FLIGHT = 4;

/** The table named by `AUDIT_TABLE`, on the shared document client, foreign items reported. */
export function auditDepsFromEnv(): AuditRepositoryDeps {
  return {
    client: getDocumentSender(),
    tableName: requireEnv(topology.tables.audit.env),
    onForeignItems: reportForeignItems,
  };
}

let fromEnv: AuditCoreRepository | undefined;

/** The core audit repository of `auditDepsFromEnv`. */
export function getAuditCoreRepository(): AuditCoreRepository {
  fromEnv ??= createAuditCoreRepository(auditDepsFromEnv());
  return fromEnv;
}
