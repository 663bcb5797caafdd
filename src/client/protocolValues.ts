/**
 * Runtime copies of the protocol's literal lists. `src/core/protocol.ts` defines them next to its
 * zod schemas, and importing values from there would pull zod into browser bundles; the type
 * checks below fail the build if the copies drift from the protocol.
 */
import type { ErrorCode, MAX_ACK_IDS, RefreshReason } from '../core/protocol.js';

/** Ids per `ack` message; fails to compile if the protocol's limit changes. */
export const ACK_MAX_IDS = 100 satisfies typeof MAX_ACK_IDS;

export const REFRESH_REASON_VALUES = [
  'too_many_missed',
  'payload_too_large',
  'unknown_since',
  'epoch_changed',
  'history_lost',
] as const satisfies readonly RefreshReason[];

export const ERROR_CODE_VALUES = [
  'BAD_JSON',
  'FRAME_TOO_LARGE',
  'UNKNOWN_ACTION',
  'INVALID_MESSAGE',
  'FORBIDDEN_CHANNEL',
  'NOT_SUBSCRIBED',
  'UNKNOWN_EVENT',
  'INTERNAL',
  'TOO_MANY_SUBSCRIPTIONS',
] as const satisfies readonly ErrorCode[];

type Missing<TAll, TListed> = [Exclude<TAll, TListed>] extends [never] ? true : Exclude<TAll, TListed>;
// If the protocol gains a value, these lines stop compiling until the list above names it.
export const REFRESH_REASONS_COMPLETE: Missing<RefreshReason, (typeof REFRESH_REASON_VALUES)[number]> = true;
export const ERROR_CODES_COMPLETE: Missing<ErrorCode, (typeof ERROR_CODE_VALUES)[number]> = true;
