/**
 * A DynamoDB stream record after the adapter has read it: images unmarshalled to plain values,
 * the table name taken from the source ARN. Pure type: core code never sees AttributeValues.
 */

export type ChangeEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface ChangeRecord {
  /** The stream record's `eventID`: unique, and the same on every redelivery. */
  readonly recordId: string;
  /** The stream sequence number: the `itemIdentifier` of a batch item failure. */
  readonly sequenceNumber: string;
  readonly eventName: ChangeEventName;
  /** Table whose stream produced the record (from `eventSourceARN`). */
  readonly tableName: string;
  readonly keys: Readonly<Record<string, unknown>>;
  readonly newImage?: Readonly<Record<string, unknown>>;
  readonly oldImage?: Readonly<Record<string, unknown>>;
  /** When the change was made (ApproximateCreationDateTime), ISO-8601; stable across redeliveries. */
  readonly approximateCreationTime?: string;
  /** A REMOVE made by DynamoDB's TTL process rather than by an application. */
  readonly removedByTtl: boolean;
  /** Set when the adapter could not read the record (unknown shape, unreadable attribute). */
  readonly readError?: string;
  /** The record as received, kept for the quarantine. */
  readonly raw: unknown;
}

/** The record's time, or `fallback` (now) when the stream did not carry one. */
export function changeTime(record: ChangeRecord, fallback: Date): string {
  return record.approximateCreationTime ?? fallback.toISOString();
}
