/**
 * The only module that calls EventBridge `PutEvents`. Sends entries in requests sized by
 * `planPutEventsBatches`, inspects `FailedEntryCount`, and re-sends only the failed entries whose
 * error code is retryable (`PUT_EVENTS_RETRYABLE_ERROR_CODES`), with exponential back-off and
 * full jitter, for as long as the caller's time budget allows. Returns one outcome per entry, in
 * input order:
 *
 * - `published` — EventBridge accepted it (`eventBridgeId`);
 * - `retryable-failed` — still failing with a transient error when the budget or attempts ran
 *   out: the caller reports it to the stream as a batch item failure;
 * - `permanently-rejected` — an error code that never succeeds on retry: quarantine it;
 * - `too-large` — the entry alone exceeds the request limit: never sent, quarantine it.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEntry } from '../core/busEntry.js';
import { mapWithConcurrency } from '../core/concurrency.js';
import { PUT_EVENTS_RETRYABLE_ERROR_CODES, putEventsMaxRequestBytes } from '../core/limits.js';
import {
  DEFAULT_PUT_EVENTS_LIMITS,
  type PutEventsLimits,
  type PutOutcome,
  planPutEventsBatches,
} from '../core/putEventsBatches.js';
import { type BackoffPolicy, fitsInBudget, fullJitterDelayMs } from '../core/retry.js';
import { type EventBridgeClientLike, eventBridgeSender, PutEventsCommand } from './sdk/eventBridge.js';

export type { PutOutcome };

export interface PutEntriesOptions {
  /** Milliseconds left in the invocation (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingTimeMs: () => number;
  /** Budget kept for the caller's own work after the last retry (quarantine writes, response). @default 5000 */
  readonly reserveMs?: number;
  /** Attempts per entry, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** @default { baseDelayMs: 100, maxDelayMs: 5000 } */
  readonly backoff?: BackoffPolicy;
  readonly limits?: PutEventsLimits;
  /**
   * PutEvents requests in flight at once. EventBridge promises its targets no order, so the
   * requests of one call need not wait for each other; sent one after another they bounded the
   * publisher to one round trip per 10 events. @default 4
   */
  readonly concurrency?: number;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const DEFAULT_PUT_EVENTS_CONCURRENCY = 4;

export const DEFAULT_PUT_BACKOFF: BackoffPolicy = { baseDelayMs: 100, maxDelayMs: 5000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether a thrown PutEvents call (the whole request failed) may succeed if sent again. */
function isTransientRequestError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const name = 'name' in error ? String(error.name) : '';
  if (PUT_EVENTS_RETRYABLE_ERROR_CODES.includes(name) || name === 'InternalException') return true;
  const fault = '$fault' in error ? error.$fault : undefined;
  const retryable = '$retryable' in error ? error.$retryable : undefined;
  // Network errors carry no $fault; client (4xx) errors are permanent unless marked retryable.
  return fault !== 'client' || retryable !== undefined;
}

function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toSdkEntry(entry: BusEntry): PutEventsRequestEntry {
  return {
    Source: entry.Source,
    DetailType: entry.DetailType,
    Detail: entry.Detail,
    ...(entry.EventBusName !== undefined ? { EventBusName: entry.EventBusName } : {}),
    ...(entry.Resources !== undefined ? { Resources: [...entry.Resources] } : {}),
    ...(entry.Time !== undefined ? { Time: entry.Time } : {}),
  };
}

/** Put entries on the bus; see the module comment for the outcomes. Never throws for entry or request failures. */
export async function putEntries(
  clientLike: EventBridgeClientLike,
  entries: readonly BusEntry[],
  options: PutEntriesOptions,
): Promise<PutOutcome[]> {
  const limits = options.limits ?? {
    ...DEFAULT_PUT_EVENTS_LIMITS,
    maxRequestBytes: putEventsMaxRequestBytes(process.env),
  };
  const backoff = options.backoff ?? DEFAULT_PUT_BACKOFF;
  const maxAttempts = options.maxAttempts ?? 8;
  const reserveMs = options.reserveMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? DEFAULT_PUT_EVENTS_CONCURRENCY;
  const client = eventBridgeSender(clientLike);

  const outcomes: (PutOutcome | undefined)[] = new Array(entries.length).fill(undefined);
  const plan = planPutEventsBatches(entries, limits);
  for (const { index, sizeBytes, limitBytes } of plan.oversized) {
    outcomes[index] = { status: 'too-large', sizeBytes, limitBytes };
  }
  const oversized = new Set(plan.oversized.map((o) => o.index));
  let pending = entries.map((_, index) => index).filter((index) => !oversized.has(index));

  for (let attempt = 1; pending.length > 0; attempt++) {
    const retry: number[] = [];
    let stopRetrying = false;
    const { batches } = planPutEventsBatches(
      pending.map((index) => entries[index] as BusEntry),
      limits,
    );
    await mapWithConcurrency(batches, concurrency, async (batch) => {
      const indexes = batch.map((position) => pending[position] as number);
      try {
        const response = await client.send(
          new PutEventsCommand({ Entries: indexes.map((index) => toSdkEntry(entries[index] as BusEntry)) }),
        );
        const results = response.Entries ?? [];
        indexes.forEach((index, position) => {
          const result = results[position];
          if (result?.EventId && !result.ErrorCode) {
            outcomes[index] = { status: 'published', eventBridgeId: result.EventId, attempts: attempt };
            return;
          }
          const errorCode = result?.ErrorCode ?? 'MissingResultEntry';
          const errorMessage = result?.ErrorMessage ?? 'PutEvents returned no result for this entry';
          const retryable = PUT_EVENTS_RETRYABLE_ERROR_CODES.includes(errorCode) || result === undefined;
          outcomes[index] = {
            status: retryable ? 'retryable-failed' : 'permanently-rejected',
            errorCode,
            errorMessage,
            attempts: attempt,
          };
          if (retryable) retry.push(index);
        });
      } catch (error) {
        // The whole request failed (after the SDK's own retries). Never quarantine valid events for
        // it: they stay retryable-failed so the stream retries them (and, at worst, its DLQ records it).
        const errorCode = error instanceof Error ? error.name : 'RequestFailed';
        for (const index of indexes) {
          outcomes[index] = {
            status: 'retryable-failed',
            errorCode,
            errorMessage: errorMessageOf(error),
            attempts: attempt,
          };
          retry.push(index);
        }
        if (!isTransientRequestError(error)) stopRetrying = true;
      }
    });
    if (retry.length === 0 || stopRetrying || attempt >= maxAttempts) break;
    const delay = fullJitterDelayMs(attempt, backoff, random);
    if (!fitsInBudget(delay, options.remainingTimeMs(), reserveMs)) break;
    await sleep(delay);
    pending = retry.sort((a, b) => a - b);
  }
  return outcomes.map(
    (outcome) =>
      outcome ?? { status: 'retryable-failed', errorCode: 'NotSent', errorMessage: 'Not sent', attempts: 0 },
  );
}
