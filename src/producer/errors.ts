/** Errors the producer helper throws; callers branch on `instanceof`. */
import type * as z from 'zod';
import type { NameKind, NameRefusal } from '../core/names.js';

/** The outbox row does not match the contract (`outboxRowInputSchema`); nothing was written. */
export class InvalidOutboxRowError extends Error {
  override readonly name: string = 'InvalidOutboxRowError';
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

/**
 * The row's tenant id, channel or event id breaks the name rules (docs/names.md): `nameKind` and
 * `refusal` say which and why. A kind of `InvalidOutboxRowError`; nothing was written.
 */
export class InvalidOutboxNameError extends InvalidOutboxRowError {
  override readonly name: string = 'InvalidOutboxNameError';
  constructor(
    issues: readonly z.core.$ZodIssue[],
    readonly field: string,
    readonly nameKind: NameKind,
    readonly refusal: NameRefusal,
  ) {
    super(issues);
  }
}

/**
 * Event ids are unique per tenant: the tenant already has an event with this id on another
 * channel (or of another type). Not a repeat, so not idempotent success; nothing was written.
 */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(
    readonly tenantId: string,
    readonly eventId: string,
    readonly existing: { readonly channel: unknown; readonly type: unknown },
    readonly attempted: { readonly channel: string; readonly type: string },
  ) {
    super(
      `Tenant ${tenantId} already has an event ${eventId} on channel ${String(existing.channel)} (type ${String(existing.type)}); ` +
        `event ids are unique per tenant, so it cannot also be an event on channel ${attempted.channel} (type ${attempted.type})`,
    );
  }
}
