/**
 * The one module for the quarantine table (item layout: `src/core/quarantine.ts`).
 *
 * ```ts
 * const quarantine = getQuarantineRepository(); // table name from QUARANTINE_TABLE
 * await quarantine.put({ reason: 'MISSING_TENANT', message: '…', source: 'publisher', recordId, recordTime, record });
 * const { items } = await quarantine.list({ limit: 50 });            // newest first, last 14 days
 * await quarantine.delete(items[0].sk);                               // after fixing / replaying it
 * ```
 *
 * `put` is idempotent per record (the key derives from the record's time and id), so a retried
 * batch does not quarantine the same record twice.
 */
import { topology } from '../contract/topology.js';
import {
  DEFAULT_QUARANTINE_RETENTION_DAYS,
  type QuarantineEntryInput,
  type QuarantineItem,
  type QuarantineReason,
  type QuarantineSource,
  quarantineDayPk,
  quarantineItemSchema,
  quarantinePkOfId,
  toQuarantineItem,
} from '../core/quarantine.js';
import { requireEnv } from './env.js';
import {
  DeleteCommand,
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  PutCommand,
  QueryCommand,
} from './sdk/dynamo.js';

/** An item in the quarantine table that does not match its schema. */
export class CorruptQuarantineItemError extends Error {
  override readonly name = 'CorruptQuarantineItemError';
  constructor(
    readonly key: { pk: unknown; sk: unknown },
    detail: string,
  ) {
    super(`Quarantine item ${String(key.pk)}/${String(key.sk)} does not match its schema: ${detail}`);
  }
}

export interface QuarantineListOptions {
  /** Oldest day to look at. @default 14 days before `until` */
  readonly since?: Date;
  /** Newest day to look at. @default now */
  readonly until?: Date;
  /** @default 50 */
  readonly limit?: number;
  readonly reason?: QuarantineReason;
  readonly source?: QuarantineSource;
}

export interface QuarantineRepository {
  /** Store (or overwrite, for the same record) a quarantine entry. */
  put(entry: QuarantineEntryInput, now?: Date): Promise<QuarantineItem>;
  /** Entries newest first (by the record's time), day by day from `until` back to `since`. */
  list(options?: QuarantineListOptions): Promise<{ items: readonly QuarantineItem[] }>;
  /** One entry by id (its `sk`). */
  get(id: string): Promise<QuarantineItem | undefined>;
  /** Delete one entry by id; true when it existed. */
  delete(id: string): Promise<boolean>;
}

export interface QuarantineRepositoryDeps {
  readonly client: DocumentClientLike;
  readonly tableName: string;
  readonly retentionDays?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function parseItem(raw: Record<string, unknown>): QuarantineItem {
  const parsed = quarantineItemSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CorruptQuarantineItemError(
      { pk: raw.pk, sk: raw.sk },
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

export function createQuarantineRepository({
  client: clientLike,
  tableName,
  retentionDays = DEFAULT_QUARANTINE_RETENTION_DAYS,
}: QuarantineRepositoryDeps): QuarantineRepository {
  const client = documentSender(clientLike);
  return {
    async put(entry, now = new Date()) {
      const item = toQuarantineItem(entry, now, retentionDays);
      await client.send(new PutCommand({ TableName: tableName, Item: item }));
      return item;
    },

    async list(options = {}) {
      const until = options.until ?? new Date();
      const since = options.since ?? new Date(until.getTime() - 14 * DAY_MS);
      const limit = options.limit ?? 50;
      const filters: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      if (options.reason) {
        filters.push('#reason = :reason');
        names['#reason'] = 'reason';
        values[':reason'] = options.reason;
      }
      if (options.source) {
        filters.push('#source = :source');
        names['#source'] = 'source';
        values[':source'] = options.source;
      }
      const items: QuarantineItem[] = [];
      const firstDay = quarantineDayPk(since.toISOString());
      for (let day = new Date(until); ; day = new Date(day.getTime() - DAY_MS)) {
        const pk = quarantineDayPk(day.toISOString());
        if (pk < firstDay) break;
        let exclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await client.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': pk, ...values },
              ...(filters.length > 0
                ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names }
                : {}),
              ScanIndexForward: false,
              ExclusiveStartKey: exclusiveStartKey,
            }),
          );
          for (const raw of page.Items ?? []) {
            items.push(parseItem(raw));
            if (items.length >= limit) return { items };
          }
          exclusiveStartKey = page.LastEvaluatedKey;
        } while (exclusiveStartKey !== undefined);
      }
      return { items };
    },

    async get(id) {
      const result = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: quarantinePkOfId(id), sk: id } }),
      );
      return result.Item ? parseItem(result.Item) : undefined;
    },

    async delete(id) {
      const result = await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: quarantinePkOfId(id), sk: id },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes !== undefined;
    },
  };
}

let fromEnv: QuarantineRepository | undefined;

/** The quarantine repository for the table named by `QUARANTINE_TABLE`, on the shared document client. */
export function getQuarantineRepository(): QuarantineRepository {
  fromEnv ??= createQuarantineRepository({
    client: getDocumentSender(),
    tableName: requireEnv(topology.tables.quarantine.env),
  });
  return fromEnv;
}
