/**
 * The one module that reads and writes the sequences table (item layout: `src/core/sequence.ts`).
 *
 * ```ts
 * const sequences = getSequencesRepository(); // table name from SEQUENCES_TABLE
 * const numbers = await assignSequences(sequences, tenantId, channel, eventIds);
 * const counter = await sequences.ensureCounter(tenantId, channel); // { last, epoch }
 * ```
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { topology } from '../contract/topology.js';
import {
  type ChannelCounter,
  newEpoch,
  SEQUENCE_ASSIGNMENT_TTL_SECONDS,
  type SequenceNumber,
  type SequenceStore,
  sequenceAssignmentKey,
  sequenceCounterKey,
} from '../core/sequence.js';
import { batchGetAll } from './batchCalls.js';
import { requireEnv } from './env.js';
import { isAwsError } from './sdk/awsErrors.js';
import {
  type DocumentClientLike,
  documentSender,
  GetCommand,
  getDocumentSender,
  PutCommand,
  TransactWriteCommand,
} from './sdk/dynamo.js';

export interface SequencesRepository extends SequenceStore {
  /** The channel's counter, created (last 0, a new epoch) when the channel has none yet. */
  ensureCounter(tenantId: string, channel: string): Promise<ChannelCounter>;
}

export interface SequencesRepositoryDeps {
  readonly client: DocumentClientLike;
  readonly tableName: string;
}

const counterSchema = z.object({
  last: z.number().check(z.int(), z.nonnegative()),
  epoch: z.string().check(z.minLength(1)),
});
const assignmentSchema = z.object({
  pk: z.string(),
  seq: z.number().check(z.int(), z.positive()),
  epoch: z.string().check(z.minLength(1)),
});

/** An item of the sequences table that does not match its schema. */
export class CorruptSequenceItemError extends Error {
  override readonly name = 'CorruptSequenceItemError';
}

function parse<T>(schema: z.ZodMiniType<T>, item: Record<string, unknown>): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    throw new CorruptSequenceItemError(
      `Sequence item ${String(item.pk)}/${String(item.sk)}: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

export function createSequencesRepository({
  client: clientLike,
  tableName,
}: SequencesRepositoryDeps): SequencesRepository {
  const client = documentSender(clientLike);
  async function getCounter(tenantId: string, channel: string): Promise<ChannelCounter | undefined> {
    const result = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: sequenceCounterKey(tenantId, channel),
        ConsistentRead: true,
      }),
    );
    return result.Item ? parse(counterSchema, result.Item) : undefined;
  }

  return {
    async read(tenantId, channel, eventIds) {
      const counterKey = sequenceCounterKey(tenantId, channel);
      const keys = [counterKey, ...eventIds.map((id) => sequenceAssignmentKey(tenantId, channel, id))];
      const items = await batchGetAll(client, tableName, keys, { consistentRead: true });
      let counter: ChannelCounter | undefined;
      const byPk = new Map<string, SequenceNumber>();
      for (const item of items) {
        if (item.pk === counterKey.pk && item.sk === counterKey.sk) counter = parse(counterSchema, item);
        else {
          const a = parse(assignmentSchema, item);
          byPk.set(a.pk, { seq: a.seq, epoch: a.epoch });
        }
      }
      const assigned = new Map<string, SequenceNumber>();
      for (const id of eventIds) {
        const found = byPk.get(sequenceAssignmentKey(tenantId, channel, id).pk);
        if (found) assigned.set(id, found);
      }
      return { counter, assigned };
    },

    async commit({ tenantId, channel, expected, next, assignments }) {
      const now = new Date().toISOString();
      const counterKey = sequenceCounterKey(tenantId, channel);
      const counterWrite: NonNullable<TransactWriteCommandInput['TransactItems']>[number] =
        expected === undefined
          ? {
              Put: {
                TableName: tableName,
                Item: {
                  ...counterKey,
                  tenantId,
                  channel,
                  last: next.last,
                  epoch: next.epoch,
                  createdAt: now,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            }
          : {
              Update: {
                TableName: tableName,
                Key: counterKey,
                UpdateExpression: 'SET #last = :next',
                ConditionExpression: '#last = :expected AND epoch = :epoch',
                ExpressionAttributeNames: { '#last': 'last' },
                ExpressionAttributeValues: {
                  ':next': next.last,
                  ':expected': expected.last,
                  ':epoch': expected.epoch,
                },
              },
            };
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              counterWrite,
              ...assignments.map((a) => ({
                Put: {
                  TableName: tableName,
                  Item: {
                    ...sequenceAssignmentKey(tenantId, channel, a.eventId),
                    eventId: a.eventId,
                    seq: a.seq,
                    epoch: next.epoch,
                    assignedAt: now,
                    expiresAt: Math.floor(Date.now() / 1000) + SEQUENCE_ASSIGNMENT_TTL_SECONDS,
                  },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              })),
            ],
          }),
        );
        return 'committed';
      } catch (error) {
        // A condition failed (counter moved, event already numbered) or another transaction
        // touched the same items: read again and retry.
        if (
          isAwsError(error, 'TransactionCanceledException') &&
          (error.CancellationReasons ?? []).some(
            (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
          )
        )
          return 'conflict';
        throw error;
      }
    },

    async ensureCounter(tenantId, channel) {
      const existing = await getCounter(tenantId, channel);
      if (existing) return existing;
      const created: ChannelCounter = { last: 0, epoch: newEpoch() };
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...sequenceCounterKey(tenantId, channel),
              tenantId,
              channel,
              ...created,
              createdAt: new Date().toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return created;
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
        const raced = await getCounter(tenantId, channel);
        if (!raced)
          throw new Error(`Counter of ${tenantId}/${channel} vanished during creation`, { cause: error });
        return raced;
      }
    },
  };
}

let fromEnv: SequencesRepository | undefined;

/** The sequences repository for the table named by `SEQUENCES_TABLE`, on the shared document client. */
export function getSequencesRepository(): SequencesRepository {
  fromEnv ??= createSequencesRepository({
    client: getDocumentSender(),
    tableName: requireEnv(topology.tables.sequences.env),
  });
  return fromEnv;
}
