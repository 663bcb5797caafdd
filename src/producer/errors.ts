/** Errors the producer helper throws; callers branch on `instanceof`. */
import type * as z from 'zod';

/** The outbox row does not match the contract (`outboxRowInputSchema`); nothing was written. */
export class InvalidOutboxRowError extends Error {
  override readonly name = 'InvalidOutboxRowError';
  constructor(readonly issues: readonly z.core.$ZodIssue[]) {
    super(
      `Invalid outbox row: ${issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`).join('; ')}`,
    );
  }
}

/** The event would exceed the bus's entry size limit, so the publisher could never put it; nothing was written. */
export class OutboxEventTooLargeError extends Error {
  override readonly name = 'OutboxEventTooLargeError';
  constructor(
    readonly eventId: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`Outbox event ${eventId} would be a ${sizeBytes}-byte bus entry; the limit is ${limitBytes} bytes`);
  }
}

/**
 * The outbox row would exceed DynamoDB's item size limit (400 KB, counted as DynamoDB does:
 * attribute names and UTF-8 values), so DynamoDB would refuse it; nothing was written.
 */
export class OutboxRowTooLargeError extends Error {
  override readonly name = 'OutboxRowTooLargeError';
  constructor(
    readonly eventId: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `Outbox row ${eventId} would be a ${sizeBytes}-byte DynamoDB item; the limit is ${limitBytes} bytes. Store large payloads elsewhere (e.g. S3) and put a reference in data.`,
    );
  }
}

/** A transaction holds at most 100 items (business writes plus outbox rows). */
export class TooManyTransactionItemsError extends Error {
  override readonly name = 'TooManyTransactionItemsError';
  constructor(readonly count: number) {
    super(`A DynamoDB transaction holds at most 100 items; this one would hold ${count}`);
  }
}
