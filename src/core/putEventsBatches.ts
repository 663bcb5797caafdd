/**
 * Envelopes → PutEvents requests. Pure: sizes each entry the way AWS counts it (`entrySizeBytes`)
 * and packs entries, in order, into requests that respect both limits, so N small events cost
 * ceil(N/10) requests. An entry that alone exceeds the request limit is reported, never sent.
 */
import { type BusEntry, entrySizeBytes } from './busEntry.js';
import { PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_REQUEST_BYTES } from './limits.js';

/** What became of one entry handed to `putEntries` (`src/aws/eventBus.ts`). */
export type PutOutcome =
  | { readonly status: 'published'; readonly eventBridgeId: string; readonly attempts: number }
  | {
      readonly status: 'retryable-failed';
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly attempts: number;
    }
  | {
      readonly status: 'permanently-rejected';
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly attempts: number;
    }
  | { readonly status: 'too-large'; readonly sizeBytes: number; readonly limitBytes: number };

export interface PutEventsLimits {
  readonly maxEntries: number;
  readonly maxRequestBytes: number;
}

export const DEFAULT_PUT_EVENTS_LIMITS: PutEventsLimits = {
  maxEntries: PUT_EVENTS_MAX_ENTRIES,
  maxRequestBytes: PUT_EVENTS_MAX_REQUEST_BYTES,
};

export interface OversizedEntry {
  /** Index of the entry in the input. */
  readonly index: number;
  readonly sizeBytes: number;
  readonly limitBytes: number;
}

export interface PutEventsPlan {
  /** Requests to send, in input order; each holds indexes into the input. */
  readonly batches: readonly (readonly number[])[];
  readonly oversized: readonly OversizedEntry[];
}

/** Pack entries into requests greedily, keeping input order (records of one partition key stay in order). */
export function planPutEventsBatches(
  entries: readonly Pick<BusEntry, 'Source' | 'DetailType' | 'Detail' | 'Resources'>[],
  limits: PutEventsLimits = DEFAULT_PUT_EVENTS_LIMITS,
): PutEventsPlan {
  const batches: number[][] = [];
  const oversized: OversizedEntry[] = [];
  let current: number[] = [];
  let currentBytes = 0;
  entries.forEach((entry, index) => {
    const size = entrySizeBytes(entry);
    if (size > limits.maxRequestBytes) {
      oversized.push({ index, sizeBytes: size, limitBytes: limits.maxRequestBytes });
      return;
    }
    if (current.length === limits.maxEntries || currentBytes + size > limits.maxRequestBytes) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(index);
    currentBytes += size;
  });
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}
