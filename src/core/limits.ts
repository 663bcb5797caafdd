/**
 * AWS limits the pipeline is sized against, one named constant each, with the documented value.
 * Pure module: no AWS imports. Values that differ per account or region can be overridden
 * by environment variables so the deployed handlers and the local runtime agree.
 */

function fromEnv(name: string, fallback: number): number {
  const raw = typeof process !== 'undefined' ? process.env[name] : undefined;
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/** PutEvents accepts at most 10 entries per request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * PutEvents request size limit. Raised from 256 KB to 1 MB on 2026-01-29; kept configurable
 * (OUTBOX_RELAY_BUS_MAX_BYTES) because an account or region may differ. The local bus enforces
 * the same constant.
 */
export const PUT_EVENTS_MAX_REQUEST_BYTES = fromEnv('OUTBOX_RELAY_BUS_MAX_BYTES', 1024 * 1024);

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
