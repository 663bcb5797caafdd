/**
 * Serialising server frames and sizing them the way API Gateway bills and limits them
 * (UTF-8 bytes of the message; 128 KB per message, billed per 32 KB unit).
 */
import type { Envelope } from './envelope.js';
import { WEBSOCKET_BILLING_UNIT_BYTES } from './limits.js';
import type { ErrorCode, RefreshReason, ServerFrame } from './protocol.js';

export function serializeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Billed 32 KB units of one message (API Gateway rounds each message up to whole units). */
export function billingUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WEBSOCKET_BILLING_UNIT_BYTES));
}

export function errorFrame(code: ErrorCode, message: string, action?: string): ServerFrame {
  return action === undefined ? { type: 'error', code, message } : { type: 'error', code, message, action };
}

export function refreshFrame(channel: string, reason: RefreshReason, eventId?: string): ServerFrame {
  return eventId === undefined
    ? { type: 'refresh', channel, reason }
    : { type: 'refresh', channel, reason, eventId };
}

/** The `close` frame: the server is going away; reconnect after the delay and resume. */
export function closeFrame(reason: string, reconnectAfterMs = 1000): ServerFrame {
  return { type: 'close', reason, reconnectAfterMs };
}

// An `events` frame is `{"type":"events","events":[` + envelopes joined by `,` + `]}`: building it
// from pre-serialised envelopes lets the planner size a frame without re-serialising it.
const EVENTS_PREFIX = '{"type":"events","events":[';
const EVENTS_SUFFIX = ']}';
const EVENT_PREFIX = '{"type":"event","event":';
const EVENT_SUFFIX = '}';

export const EVENTS_FRAME_OVERHEAD_BYTES = byteLength(EVENTS_PREFIX) + byteLength(EVENTS_SUFFIX);
export const EVENT_FRAME_OVERHEAD_BYTES = byteLength(EVENT_PREFIX) + byteLength(EVENT_SUFFIX);

export function eventsFrameFromSerialized(serializedEnvelopes: readonly string[]): string {
  return `${EVENTS_PREFIX}${serializedEnvelopes.join(',')}${EVENTS_SUFFIX}`;
}

export function eventFrameFromSerialized(serializedEnvelope: string): string {
  return `${EVENT_PREFIX}${serializedEnvelope}${EVENT_SUFFIX}`;
}

export function serializeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}
