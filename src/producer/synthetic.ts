/**
 * Synthetic events: events that do not come from a business transaction (a reaper that expires
 * sessions, a scheduler's tick). Their callers are background loops that must keep running, so
 * `emitSyntheticEvent` never throws: it returns what happened, and counts every failure in the
 * metric `SyntheticEventFailures` (CloudWatch embedded metric format on stdout by default).
 */
import type { DocumentClientLike } from '../aws/sdk/dynamo.js';
import { METRIC, METRIC_SERVICE_DIMENSION, METRICS_NAMESPACE } from '../core/metricNames.js';
import type { OutboxRowInput } from '../core/outboxRow.js';
import {
  DuplicateEventIdError,
  InvalidOutboxRowError,
  OutboxEventTooLargeError,
  OutboxRowTooLargeError,
} from './errors.js';
import { appendToOutbox, newOutboxEvent, type OutboxWriteOptions } from './index.js';

/**
 * `appended`: written; `repeat`: this event was already in the outbox (nothing written);
 * `refused`: the event can never be written as given (invalid, too large, id reused by another
 * event); `failed`: the write failed (throttling, network, permissions) — emitting the same
 * `eventId` again later is safe.
 */
export type SyntheticEventResult =
  | { readonly status: 'appended' | 'repeat'; readonly eventId: string }
  | { readonly status: 'refused' | 'failed'; readonly eventId: string | undefined; readonly error: unknown };

export type SyntheticEventInput = Omit<OutboxRowInput, 'eventId' | 'occurredAt'> & {
  readonly eventId?: string;
  readonly occurredAt?: string;
};

export interface SyntheticEventOptions extends OutboxWriteOptions {
  /** Counts a failure; the default writes one embedded-metric-format line to stdout (Lambda turns it into a metric). */
  readonly countFailure?: (metricName: string, status: 'refused' | 'failed') => void;
}

/** Embedded metric format: CloudWatch reads it from a Lambda's (or the agent's) log, no SDK call. */
function emfFailure(metricName: string): void {
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [[METRIC_SERVICE_DIMENSION]],
            Metrics: [{ Name: metricName, Unit: 'Count' }],
          },
        ],
      },
      [METRIC_SERVICE_DIMENSION]: 'producer',
      [metricName]: 1,
    }),
  );
}

const REFUSALS = [
  InvalidOutboxRowError,
  OutboxEventTooLargeError,
  OutboxRowTooLargeError,
  DuplicateEventIdError,
];

/**
 * Append a synthetic event; never throws.
 * @example
 * const result = await emitSyntheticEvent(db, { tenantId: 'acme', channel: 'sessions', type: 'session.expired', data: { id } }, { tableName });
 * if (result.status === 'failed') logger.warn('session.expired not emitted', { error: result.error });
 */
export async function emitSyntheticEvent(
  client: DocumentClientLike,
  input: SyntheticEventInput,
  options: SyntheticEventOptions,
): Promise<SyntheticEventResult> {
  let eventId: string | undefined;
  let result: SyntheticEventResult;
  try {
    const event = newOutboxEvent(input, options.now);
    eventId = event.eventId;
    const { appended } = await appendToOutbox(client, event, options);
    return { status: appended ? 'appended' : 'repeat', eventId };
  } catch (error) {
    const refused = REFUSALS.some((kind) => error instanceof kind);
    result = { status: refused ? 'refused' : 'failed', eventId, error };
  }
  try {
    (options.countFailure ?? emfFailure)(
      METRIC.syntheticEventFailures,
      result.status === 'refused' ? 'refused' : 'failed',
    );
  } catch {
    // Counting must not break the caller either.
  }
  return result;
}
