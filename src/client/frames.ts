/**
 * A light, hand-written guard for server frames. The server's zod schemas
 * (`src/core/protocol.ts`) would add zod to every browser bundle, so the client checks only what
 * it relies on; the types still come from the protocol module (type-only imports, erased).
 */
import type { Envelope } from '../core/envelope.js';
import type { ServerFrame } from '../core/protocol.js';
import { ERROR_CODE_VALUES, REFRESH_REASON_VALUES } from './protocolValues.js';

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

export function isEnvelope(value: unknown): value is Envelope {
  return (
    isRecord(value) &&
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

function isRefreshReason(value: unknown): value is Extract<ServerFrame, { type: 'refresh' }>['reason'] {
  return REFRESH_REASON_VALUES.some((reason) => reason === value);
}

function isErrorCode(value: unknown): value is Extract<ServerFrame, { type: 'error' }>['code'] {
  return ERROR_CODE_VALUES.some((code) => code === value);
}

function isOptionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** True when `value` has the shape of a server frame the client understands. */
export function isServerFrame(value: unknown): value is ServerFrame {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'event':
      return isEnvelope(value.event);
    case 'events':
      return Array.isArray(value.events) && value.events.length > 0 && value.events.every(isEnvelope);
    case 'subscribed':
    case 'unsubscribed':
      return isStringArray(value.channels);
    case 'resumed':
      return isNonEmptyString(value.channel) && typeof value.replayed === 'number';
    case 'pong':
      return isOptionalString(value.id);
    case 'refresh':
      return (
        isNonEmptyString(value.channel) && isRefreshReason(value.reason) && isOptionalString(value.eventId)
      );
    case 'close':
      return (
        typeof value.reason === 'string' &&
        typeof value.reconnectAfterMs === 'number' &&
        value.reconnectAfterMs >= 0
      );
    case 'error':
      return isErrorCode(value.code) && typeof value.message === 'string' && isOptionalString(value.action);
    default:
      return false;
  }
}

/** Parses one text message; `undefined` when it is not JSON or not a protocol frame. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isServerFrame(value) ? value : undefined;
}
