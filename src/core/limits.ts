/**
 * AWS limits the pipeline is sized against, one named constant each, with the documented value.
 * Pure module: no AWS imports, no `process.env`. A value that differs per account or region has
 * an environment variable that the edges (handlers, producer, local bus) read through the
 * function beside it, so the deployed handlers and the local runtime agree.
 */
import { type Env, readWholeNumber } from './envSettings.js';

/** PutEvents accepts at most 10 entries per request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * PutEvents request size limit. Raised from 256 KB to 1 MB on 2026-01-29; kept configurable
 * (`BUS_MAX_BYTES_ENV`, read by `putEventsMaxRequestBytes`) because an account or region may
 * differ. The local bus enforces the same value.
 */
export const PUT_EVENTS_MAX_REQUEST_BYTES = 1024 * 1024;
export const BUS_MAX_BYTES_ENV = 'OUTBOX_RELAY_BUS_MAX_BYTES';

/** The PutEvents request size limit in force: `OUTBOX_RELAY_BUS_MAX_BYTES`, or the documented one. */
export function putEventsMaxRequestBytes(env: Env): number {
  return readWholeNumber(env, BUS_MAX_BYTES_ENV, {
    fallback: PUT_EVENTS_MAX_REQUEST_BYTES,
    min: 1,
    unit: 'bytes',
  });
}

/** AWS sizes an entry as 14 bytes for Time plus the UTF-8 bytes of Source, DetailType, Detail, Resources. */
export const PUT_EVENTS_TIME_BYTES = 14;

/** PutEvents error codes worth re-sending; every other code is permanent (quarantine). */
export const PUT_EVENTS_RETRYABLE_ERROR_CODES: readonly string[] = ['InternalFailure', 'ThrottlingException'];

/** API Gateway WebSocket: a message is at most 128 KB, billed per 32 KB unit. */
export const WEBSOCKET_MAX_MESSAGE_BYTES = 128 * 1024;
export const WEBSOCKET_BILLING_UNIT_BYTES = 32 * 1024;
/** API Gateway closes a WebSocket connection after 2 hours, or after 10 minutes idle. */
export const WEBSOCKET_MAX_CONNECTION_SECONDS = 2 * 60 * 60;
export const WEBSOCKET_IDLE_TIMEOUT_SECONDS = 10 * 60;

/** SQS message size limit (1 MiB since 2026) and the visibility-timeout ceiling (12 h). */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60;
/** SQS caps a message's `DelaySeconds` (and so any back-off done by delaying a new message) at 15 minutes. */
export const SQS_MAX_DELAY_SECONDS = 900;

/** DynamoDB item size limit: an outbox row can never reach the bus limit by itself. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
