/**
 * A light, hand-written guard for server frames. The server's zod schemas
 * (`src/core/protocol.ts`) would add zod to every browser bundle, so the client checks only what
 * it relies on; the types still come from the protocol module (type-only imports, erased).
 */
import { REFRESH_REASON_VALUES } from './protocolValues.js';
import type { Head, WireEnvelope, WireFrame } from './wire.js';

type UnknownRecord = { readonly [key: string]: unknown };

function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isSeq(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** `seq` and `epoch` come together or not at all (an older server sends neither). */
function hasSeqFields(value: UnknownRecord): boolean {
  return value.seq === undefined
    ? value.epoch === undefined
    : isSeq(value.seq) && value.seq > 0 && typeof value.epoch === 'string';
}

function isHead(value: unknown): value is Head {
  return isRecord(value) && isSeq(value.seq) && typeof value.epoch === 'string';
}

function isOptionalHead(value: unknown): value is Head | undefined {
  return value === undefined || isHead(value);
}

export function isEnvelope(value: unknown): value is WireEnvelope {
  return (
    isRecord(value) &&
    hasSeqFields(value) &&
    value.version === 1 &&
    isNonEmptyString(value.id) &&
    isNonEmptyString(value.source) &&
    isNonEmptyString(value.tenantId) &&
    isNonEmptyString(value.channel) &&
    isNonEmptyString(value.type) &&
    (value.resourceId === null || isNonEmptyString(value.resourceId)) &&
    isNonEmptyString(value.time) &&
    isNonEmptyString(value.position) &&
    isRecord(value.data)
  );
}

function isRefreshReason(value: unknown): value is Extract<WireFrame, { type: 'refresh' }>['reason'] {
  return REFRESH_REASON_VALUES.some((reason) => reason === value);
}

function isOptionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** True when `value` has the shape of a server frame the client understands. */
export function isServerFrame(value: unknown): value is WireFrame {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'event':
      return isEnvelope(value.event);
    case 'events':
      return Array.isArray(value.events) && value.events.length > 0 && value.events.every(isEnvelope);
    case 'subscribed':
      return (
        isStringArray(value.channels) &&
        (value.heads === undefined ||
          (Array.isArray(value.heads) &&
            value.heads.every((head) => isRecord(head) && isNonEmptyString(head.channel) && isHead(head))))
      );
    case 'unsubscribed':
      return isStringArray(value.channels);
    case 'resumed':
      return (
        isNonEmptyString(value.channel) && typeof value.replayed === 'number' && isOptionalHead(value.head)
      );
    case 'fetched':
      return (
        isNonEmptyString(value.channel) &&
        isSeq(value.fromSeq) &&
        isSeq(value.toSeq) &&
        typeof value.count === 'number'
      );
    case 'pong':
      return isOptionalString(value.id);
    case 'refresh':
      return (
        isNonEmptyString(value.channel) &&
        isRefreshReason(value.reason) &&
        isOptionalString(value.eventId) &&
        isOptionalHead(value.head)
      );
    case 'close':
      return (
        typeof value.reason === 'string' &&
        typeof value.reconnectAfterMs === 'number' &&
        value.reconnectAfterMs >= 0
      );
    case 'error':
      // The code is not checked against the list: a newer server's code is still an error to report.
      return (
        typeof value.code === 'string' && typeof value.message === 'string' && isOptionalString(value.action)
      );
    default:
      return false;
  }
}

/** Parses one text message; `undefined` when it is not JSON or not a protocol frame. */
export function parseServerFrame(text: string): WireFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isServerFrame(value) ? value : undefined;
}
