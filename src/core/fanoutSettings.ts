/**
 * The fan-out's knobs (docs/websocket.md), read from the environment by the handler:
 * - `FANOUT_COALESCE` (default `true`): one `events` message per connection per batch, or one
 *   `event` message per event (`false`).
 * - `FANOUT_MAX_EVENTS_PER_FRAME` (default `DEFAULT_MAX_EVENTS_PER_FRAME`, 50): cap on events in one `events` message.
 * - `FANOUT_CONCURRENCY` (default 50): `@connections` calls in flight per invocation.
 * - `FANOUT_RETRY_DELAYS_MS` (default `50,250`): in-process retries of a failed call.
 * - `FANOUT_CHUNK_THRESHOLD` (default 2,000): above this many subscribers in one batch, the
 *   fan-out is split into subscription-shard chunks handled by parallel invocations.
 * - `FANOUT_SUBJECT_RECORDS_MAX` (default 100, `DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS`): per-subject
 *   audit records for events with at most this many subscribers; 0 turns them off.
 * The message size cap is API Gateway's 128 KB (`WEBSOCKET_MAX_MESSAGE_BYTES`).
 */
import { type Env, readBoolean, readWholeNumber, readWholeNumberList } from './envSettings.js';
import type { FanoutSettings } from './fanoutDelivery.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME } from './fanoutPlan.js';
import { DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS } from './fanoutSubjects.js';
import { WEBSOCKET_MAX_MESSAGE_BYTES } from './limits.js';

export const FANOUT_ENV = {
  coalesce: 'FANOUT_COALESCE',
  maxEventsPerFrame: 'FANOUT_MAX_EVENTS_PER_FRAME',
  concurrency: 'FANOUT_CONCURRENCY',
  retryDelaysMs: 'FANOUT_RETRY_DELAYS_MS',
  chunkThreshold: 'FANOUT_CHUNK_THRESHOLD',
  subjectRecordsMaxSubscribers: 'FANOUT_SUBJECT_RECORDS_MAX',
} as const;

export const DEFAULT_FANOUT_CHUNK_THRESHOLD = 2_000;

/** In-process retries of a failed `@connections` call, milliseconds before each. */
export const DEFAULT_FANOUT_RETRY_DELAYS_MS: readonly number[] = [50, 250];
export const DEFAULT_FANOUT_CONCURRENCY = 50;

/** Throws `InvalidSettingError` naming the variable when a set value does not parse. */
export function fanoutSettingsFromEnv(env: Env): FanoutSettings {
  return {
    coalesce: readBoolean(env, FANOUT_ENV.coalesce, true),
    maxEventsPerFrame: readWholeNumber(env, FANOUT_ENV.maxEventsPerFrame, {
      fallback: DEFAULT_MAX_EVENTS_PER_FRAME,
      min: 1,
      max: 10_000,
    }),
    maxMessageBytes: WEBSOCKET_MAX_MESSAGE_BYTES,
    concurrency: readWholeNumber(env, FANOUT_ENV.concurrency, {
      fallback: DEFAULT_FANOUT_CONCURRENCY,
      min: 1,
      max: 1000,
    }),
    retryDelaysMs: readWholeNumberList(env, FANOUT_ENV.retryDelaysMs, {
      fallback: DEFAULT_FANOUT_RETRY_DELAYS_MS,
      min: 0,
      max: 10_000,
      unit: 'milliseconds',
    }),
    chunkThreshold: readWholeNumber(env, FANOUT_ENV.chunkThreshold, {
      fallback: DEFAULT_FANOUT_CHUNK_THRESHOLD,
      min: 1,
      max: 10_000_000,
    }),
    subjectRecordsMaxSubscribers: readWholeNumber(env, FANOUT_ENV.subjectRecordsMaxSubscribers, {
      fallback: DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS,
      min: 0,
      max: 10_000,
    }),
  };
}
