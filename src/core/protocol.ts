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
const seqNumber = z.number().int().max(Number.MAX_SAFE_INTEGER);
const epochName = z.string().min(1).max(64);

/** A channel's sequence head: the last resumable number (0 if none) and the sequence history it belongs to. */
export const headSchema = z.object({ seq: seqNumber.nonnegative(), epoch: epochName });
export type Head = z.infer<typeof headSchema>;

/**
 * Resume one or several channels: after the last sequence number the client holds (`afterSeq`,
 * preferred), or after the last event id it saw (`since`); neither = "from now". `epoch` is the
 * sequence history `afterSeq` belongs to: a different current epoch answers `refresh`.
 */
export const resumeMessageSchema = z.object({
  action: z.literal('resume'),
  channels: z
    .array(
      z.object({
        channel: channelName,
        since: eventIdSchema.optional(),
        afterSeq: seqNumber.nonnegative().optional(),
        epoch: epochName.optional(),
      }),
    )
    .min(1)
    .max(100),
});
export const pingMessageSchema = z.object({ action: z.literal('ping'), id: z.string().max(128).optional() });
/**
 * Ask again for a range of a subscribed channel's sequence (a gap that outlived the client's
 * wait). `toSeq - fromSeq` must stay below the resume limit; `epoch` (optional) as in `resume`.
 */
export const fetchMessageSchema = z
  .object({
    action: z.literal('fetch'),
    channel: channelName,
    fromSeq: seqNumber.min(1),
    toSeq: seqNumber.min(1),
    epoch: epochName.optional(),
  })
  .refine((m) => m.fromSeq <= m.toSeq, {
    message: 'fromSeq must not be greater than toSeq',
    path: ['toSeq'],
  });

/** Ids one `ack` message may carry (the client SDK batches up to this many). */
export const MAX_ACK_IDS = 100;
/**
 * Receipts: the client processed these events. Recorded per subject as `received`; ids of other
 * tenants, of channels the token does not allow, and unknown ids are ignored without a reply.
 */
export const ackMessageSchema = z.object({
  action: z.literal('ack'),
  ids: z.array(eventIdSchema).min(1).max(MAX_ACK_IDS),
});

export const clientMessageSchema = z.discriminatedUnion('action', [
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  resumeMessageSchema,
  pingMessageSchema,
  fetchMessageSchema,
  ackMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export const CLIENT_ACTIONS = ['subscribe', 'unsubscribe', 'resume', 'ping', 'fetch', 'ack'] as const;
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

export const REFRESH_REASONS = [
  'too_many_missed',
  'payload_too_large',
  'unknown_since',
  /** The channel's sequence history changed (the `epoch` the client holds is not the current one). */
  'epoch_changed',
  /** Events the client asked for no longer exist in the audit table (expired, or the history was lost). */
  'history_lost',
] as const;
export type RefreshReason = (typeof REFRESH_REASONS)[number];

export const serverFrameSchema = z.discriminatedUnion('type', [
  /** One event. */
  z.object({ type: z.literal('event'), event: envelopeSchema }),
  /** Several events for this connection, in each channel's order, in one message (coalescing). */
  z.object({ type: z.literal('events'), events: z.array(envelopeSchema).min(1) }),
  z.object({
    type: z.literal('subscribed'),
    channels: z.array(channelName),
    /** One per channel subscribed, read after the subscription was stored. */
    heads: z
      .array(z.object({ channel: channelName, seq: seqNumber.nonnegative(), epoch: epochName }))
      .optional(),
  }),
  z.object({ type: z.literal('unsubscribed'), channels: z.array(channelName) }),
  /** Sent after the replayed events of a channel: live events follow. */
  z.object({
    type: z.literal('resumed'),
    channel: channelName,
    replayed: z.number().int().nonnegative(),
    head: headSchema.optional(),
  }),
  /** Sent after the events of a `fetch` (those still in flight are missing from `count` and arrive live). */
  z.object({
    type: z.literal('fetched'),
    channel: channelName,
    fromSeq: seqNumber.min(1),
    toSeq: seqNumber.min(1),
    count: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('pong'), id: z.string().optional() }),
  /** The client must reload its state for this channel: too much was missed, or a payload was too large to send. */
  z.object({
    type: z.literal('refresh'),
    channel: channelName,
    reason: z.enum(REFRESH_REASONS),
    eventId: z.string().optional(),
    head: headSchema.optional(),
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
