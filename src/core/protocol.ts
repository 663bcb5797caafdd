/**
 * The WebSocket protocol (docs/protocol.md): client messages carry an `action`, server frames a
 * `type`. Shared by the handlers, the local gateway, the client SDK and the console page.
 * Pure module: zod schemas and the types derived from them.
 */
import * as z from 'zod';
import { envelopeSchema } from './envelope.js';
import { channelSchema, eventIdSchema } from './names.js';

/** A channel name follows the name rules of `names.ts` (docs/names.md). */
const channelName = channelSchema;

export const subscribeMessageSchema = z.object({
  action: z.literal('subscribe'),
  channels: z.array(channelName).min(1).max(100),
});
export const unsubscribeMessageSchema = z.object({
  action: z.literal('unsubscribe'),
  channels: z.array(channelName).min(1).max(100),
});
/** Resume one or several channels from the last event id the client saw (omit `since` for "from now"). */
export const resumeMessageSchema = z.object({
  action: z.literal('resume'),
  channels: z
    .array(z.object({ channel: channelName, since: eventIdSchema.optional() }))
    .min(1)
    .max(100),
});
export const pingMessageSchema = z.object({ action: z.literal('ping'), id: z.string().max(128).optional() });

export const clientMessageSchema = z.discriminatedUnion('action', [
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  resumeMessageSchema,
  pingMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export const CLIENT_ACTIONS = ['subscribe', 'unsubscribe', 'resume', 'ping'] as const;
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

export const ERROR_CODES = [
  'BAD_JSON',
  'FRAME_TOO_LARGE',
  'UNKNOWN_ACTION',
  'INVALID_MESSAGE',
  'FORBIDDEN_CHANNEL',
  'NOT_SUBSCRIBED',
  'UNKNOWN_EVENT',
  'INTERNAL',
  'TOO_MANY_SUBSCRIPTIONS',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const REFRESH_REASONS = ['too_many_missed', 'payload_too_large', 'unknown_since'] as const;
export type RefreshReason = (typeof REFRESH_REASONS)[number];

export const serverFrameSchema = z.discriminatedUnion('type', [
  /** One event. */
  z.object({ type: z.literal('event'), event: envelopeSchema }),
  /** Several events for this connection, in each channel's order, in one message (coalescing). */
  z.object({ type: z.literal('events'), events: z.array(envelopeSchema).min(1) }),
  z.object({ type: z.literal('subscribed'), channels: z.array(channelName) }),
  z.object({ type: z.literal('unsubscribed'), channels: z.array(channelName) }),
  /** Sent after the replayed events of a channel: live events follow. */
  z.object({ type: z.literal('resumed'), channel: channelName, replayed: z.number().int().nonnegative() }),
  z.object({ type: z.literal('pong'), id: z.string().optional() }),
  /** The client must reload its state for this channel: too much was missed, or a payload was too large to send. */
  z.object({
    type: z.literal('refresh'),
    channel: channelName,
    reason: z.enum(REFRESH_REASONS),
    eventId: z.string().optional(),
  }),
  /** The server is going away (deploy, 2-hour limit, shutdown): reconnect after the delay and resume. */
  z.object({
    type: z.literal('close'),
    reason: z.string(),
    reconnectAfterMs: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('error'),
    code: z.enum(ERROR_CODES),
    message: z.string(),
    action: z.string().optional(),
  }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
