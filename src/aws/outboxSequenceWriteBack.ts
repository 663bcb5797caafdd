/**
 * Writes an event's sequence number back to its outbox row (`seq`, `epoch`), so the application
 * can read the number where it wrote the event. Conditional: a row already numbered is left alone
 * (no second stream record on replays), and a row that is gone (TTL) is not re-created.
 */
import type { SequenceNumber } from '../core/sequence.js';
import { isAwsError } from './sdk/awsErrors.js';
import { type DocumentClientLike, documentSender, UpdateCommand } from './sdk/dynamo.js';

/** Returns false when the row was already numbered or no longer exists. */
export async function writeSequenceToOutboxRow(
  client: DocumentClientLike,
  tableName: string,
  keys: Readonly<Record<string, unknown>>,
  number: SequenceNumber,
): Promise<boolean> {
  try {
    await documentSender(client).send(
      new UpdateCommand({
        TableName: tableName,
        Key: { ...keys },
        UpdateExpression: 'SET seq = :seq, epoch = :epoch',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(seq)',
        ExpressionAttributeValues: { ':seq': number.seq, ':epoch': number.epoch },
      }),
    );
    return true;
  } catch (error) {
    if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
    throw error;
  }
}
