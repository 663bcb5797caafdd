/**
 * DynamoDB batch calls that finish the job: requests split to DynamoDB's per-call limits, what a
 * call leaves unprocessed (throttling, the 16 MB cap) sent again with back-off, a few calls in
 * flight at once. The repositories call these instead of each keeping its own loop.
 *
 * ```ts
 * const { skipped } = await batchWriteAll(client, tableName, items.map((Item) => ({ PutRequest: { Item } })), {
 *   inFlight: 4,
 *   until: deadlineMs,
 * });
 * const items = await batchGetAll(client, tableName, keys, { consistentRead: true, projection: 'pk' });
 * ```
 */
import { mapWithConcurrency } from '../core/concurrency.js';
import { BatchGetCommand, BatchWriteCommand, type DocumentSender } from './sdk/dynamo.js';

/** DynamoDB's BatchWriteItem takes at most 25 requests. */
export const BATCH_WRITE_MAX_REQUESTS = 25;
/** DynamoDB's BatchGetItem takes at most 100 keys. */
export const BATCH_GET_MAX_KEYS = 100;
/** Re-sends of what a call left unprocessed before giving up. */
export const BATCH_MAX_RETRIES = 8;

/** The wait before re-send `retry` (1-based): 50 ms doubling, at most a second. */
export const batchRetryDelayMs = (retry: number): number => Math.min(1000, 25 * 2 ** retry);

export type BatchWriteRequest =
  | { readonly PutRequest: { readonly Item: Record<string, unknown> } }
  | { readonly DeleteRequest: { readonly Key: Record<string, unknown> } };

export type BatchKey = Record<string, unknown>;

/** Some requests or keys were still unprocessed after `BATCH_MAX_RETRIES` re-sends. */
export class BatchUnprocessedError extends Error {
  override readonly name = 'BatchUnprocessedError';
  constructor(
    readonly operation: 'BatchWrite' | 'BatchGet',
    readonly tableName: string,
    readonly unprocessed: number,
  ) {
    super(
      `${operation} on ${tableName}: ${unprocessed} ${operation === 'BatchWrite' ? 'items' : 'keys'} still unprocessed`,
    );
  }
}

interface BatchCallOptions {
  /** Calls in flight at once, each on its own chunk. @default 1 (one after another) */
  readonly inFlight?: number;
  /** Waits between re-sends (tests pass an instant one). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface BatchWriteOptions extends BatchCallOptions {
  /**
   * Milliseconds since the epoch: no chunk starts at or after this moment (re-sends of a started
   * chunk still run); its requests count as skipped. @default no deadline
   */
  readonly until?: number;
}

export interface BatchGetOptions extends BatchCallOptions {
  /** Strongly consistent reads. @default false (the field is left out of the request) */
  readonly consistentRead?: boolean;
  /** `ProjectionExpression` of every request. @default whole items */
  readonly projection?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Send `pending` until nothing is left unprocessed; `send` returns what the call left. */
async function untilProcessed<T>(
  pending: T[],
  send: (pending: T[]) => Promise<T[]>,
  giveUp: (left: number) => Error,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > BATCH_MAX_RETRIES) throw giveUp(pending.length);
    if (attempt > 0) await sleep(batchRetryDelayMs(attempt));
    pending = await send(pending);
  }
}

/**
 * Write `requests` (puts and deletes) in BatchWrites of 25, `inFlight` at once, re-sending what
 * DynamoDB leaves unprocessed. A request may not name a key another one in its chunk names
 * (DynamoDB refuses the call): deduplicate first. Throws `BatchUnprocessedError` when some are
 * still unprocessed after the retries.
 *
 * ```ts
 * await batchWriteAll(client, 'connections', keys.map((Key) => ({ DeleteRequest: { Key } })));
 * ```
 */
export async function batchWriteAll(
  client: DocumentSender,
  tableName: string,
  requests: readonly BatchWriteRequest[],
  options: BatchWriteOptions = {},
): Promise<{ readonly skipped: number; readonly unstarted: readonly BatchWriteRequest[] }> {
  const { inFlight = 1, until = Number.POSITIVE_INFINITY, sleep = defaultSleep } = options;
  const unstarted: BatchWriteRequest[] = [];
  await mapWithConcurrency(chunksOf(requests, BATCH_WRITE_MAX_REQUESTS), inFlight, async (chunk) => {
    if (Date.now() >= until) {
      unstarted.push(...chunk);
      return;
    }
    await untilProcessed(
      chunk,
      async (pending) => {
        const result = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        return (result.UnprocessedItems?.[tableName] ?? []).flatMap((r): BatchWriteRequest[] => {
          if (r.PutRequest?.Item) return [{ PutRequest: { Item: r.PutRequest.Item } }];
          if (r.DeleteRequest?.Key) return [{ DeleteRequest: { Key: r.DeleteRequest.Key } }];
          return [];
        });
      },
      (left) => new BatchUnprocessedError('BatchWrite', tableName, left),
      sleep,
    );
  });
  return { skipped: unstarted.length, unstarted };
}

/**
 * Read the items of `keys` in BatchGets of 100, `inFlight` at once, re-asking for what DynamoDB
 * leaves unprocessed. Keys without an item are simply absent from the result, whose order is
 * not the keys' (BatchGetItem answers in any order). Keys must be distinct (DynamoDB refuses a
 * call naming one twice). Throws `BatchUnprocessedError` when some are still unprocessed after
 * the retries.
 *
 * ```ts
 * const found = await batchGetAll(client, 'audit', keys, { consistentRead: true, projection: 'pk', inFlight: 4 });
 * ```
 */
export async function batchGetAll(
  client: DocumentSender,
  tableName: string,
  keys: readonly BatchKey[],
  options: BatchGetOptions = {},
): Promise<Record<string, unknown>[]> {
  const { inFlight = 1, consistentRead, projection, sleep = defaultSleep } = options;
  const perChunk = await mapWithConcurrency(chunksOf(keys, BATCH_GET_MAX_KEYS), inFlight, async (chunk) => {
    const items: Record<string, unknown>[] = [];
    await untilProcessed(
      chunk,
      async (pending) => {
        const result = await client.send(
          new BatchGetCommand({
            RequestItems: {
              [tableName]: {
                Keys: pending,
                ...(consistentRead !== undefined ? { ConsistentRead: consistentRead } : {}),
                ...(projection !== undefined ? { ProjectionExpression: projection } : {}),
              },
            },
          }),
        );
        items.push(...(result.Responses?.[tableName] ?? []));
        return result.UnprocessedKeys?.[tableName]?.Keys ?? [];
      },
      (left) => new BatchUnprocessedError('BatchGet', tableName, left),
      sleep,
    );
    return items;
  });
  return perChunk.flat();
}
