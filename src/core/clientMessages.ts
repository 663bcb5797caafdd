/**
 * Handling one client message (routes `subscribe`, `unsubscribe`, `resume`, `ping`, `fetch`, `ack`, `$default`):
 * parse it defensively and return the frames to send back, in order. Never throws on bad input:
 * every refusal is an `error` frame with a code and a sentence.
 */
import type * as z from 'zod';
import { mapWithConcurrency } from './concurrency.js';
import type { Envelope } from './envelope.js';
import { errorFrame, serializeFrame } from './frames.js';
import { CLIENT_ACTIONS, type ClientMessage, clientMessageSchema, type ServerFrame } from './protocol.js';
import { type ConnectionQuotas, DEFAULT_QUOTAS, splitBySubscriptionQuota } from './quotas.js';
import { type ReceiptPorts, recordReceipts, subjectRecordsOf } from './receipts.js';
import {
  fetchRange,
  type ResumePorts,
  type ResumeSettings,
  readHead,
  resumeChannelRequest,
} from './resume.js';
import { type ConnectionIdentity, isChannelAllowed } from './token.js';

/**
 * Largest client message the handlers accept. API Gateway itself accepts up to 128 KB (and closes
 * the socket with 1009 above that); client messages are small control messages, so anything
 * above 32 KB (one WebSocket frame) is refused with FRAME_TOO_LARGE.
 */
export const MAX_CLIENT_MESSAGE_BYTES = 32 * 1024;

export interface ClientMessagePorts extends ResumePorts {
  subscribe(connectionId: string, identity: ConnectionIdentity, channels: readonly string[]): Promise<void>;
  unsubscribe(connectionId: string, identity: ConnectionIdentity, channels: readonly string[]): Promise<void>;
  /** Whether the connection holds a subscription to the channel (`fetch` requires one). */
  isSubscribed(connectionId: string, channel: string): Promise<boolean>;
  /** Channels the connection is subscribed to now (the subscription quota counts them). */
  subscriptionsOf(connectionId: string): Promise<readonly string[]>;
  /**
   * Per-subject records: receipts (`ack`) and the events a resume or fetch replayed. Without
   * them an `ack` is ignored and replays are not recorded.
   */
  readonly receipts?: ReceiptPorts;
}

export interface ClientMessageContext {
  readonly connectionId: string;
  readonly identity: ConnectionIdentity;
}

export type ParsedClientMessage =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly frame: ServerFrame };

const VALID_ACTIONS = CLIENT_ACTIONS.join(', ');

/** Parse a raw message body into a client message, or the `error` frame refusing it. */
export function parseClientMessage(body: string | undefined): ParsedClientMessage {
  const text = body ?? '';
  if (Buffer.byteLength(text, 'utf8') > MAX_CLIENT_MESSAGE_BYTES) {
    return refuse('FRAME_TOO_LARGE', `Messages are limited to ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse('BAD_JSON', 'The message is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return refuse('UNKNOWN_ACTION', `The message must be a JSON object with an action: ${VALID_ACTIONS}`);
  }
  const action = 'action' in json ? json.action : undefined;
  if (typeof action !== 'string' || !(CLIENT_ACTIONS as readonly string[]).includes(action)) {
    return refuse(
      'UNKNOWN_ACTION',
      `Unknown action; valid actions are: ${VALID_ACTIONS}`,
      typeof action === 'string' ? action : undefined,
    );
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) return refuse('INVALID_MESSAGE', describeIssues(parsed.error.issues), action);
  return { ok: true, message: parsed.data };
}

function refuse(
  code: Parameters<typeof errorFrame>[0],
  message: string,
  action?: string,
): ParsedClientMessage {
  return { ok: false, frame: errorFrame(code, message, action) };
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return `Invalid message: ${issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
    .join('; ')}`;
}

/**
 * Handle one message body; returns the serialised frames to post back, in order.
 * @example await handleClientMessage('{"action":"ping"}', ctx, ports, settings) // ['{"type":"pong"}']
 */
export async function handleClientMessage(
  body: string | undefined,
  context: ClientMessageContext,
  ports: ClientMessagePorts,
  settings: ResumeSettings,
  quotas: ConnectionQuotas = DEFAULT_QUOTAS,
): Promise<string[]> {
  const parsed = parseClientMessage(body);
  if (!parsed.ok) return [serializeFrame(parsed.frame)];
  const { message } = parsed;
  const { identity, connectionId } = context;

  switch (message.action) {
    case 'ping':
      return [serializeFrame(message.id === undefined ? { type: 'pong' } : { type: 'pong', id: message.id })];
    case 'subscribe': {
      const permitted = splitAllowed(identity, unique(message.channels), 'subscribe');
      const { allowed, frames } = await withinQuota(permitted, connectionId, ports, quotas, 'subscribe');
      if (allowed.length > 0) {
        await ports.subscribe(connectionId, identity, allowed);
        // Read after the subscription is stored: every event above a head is delivered live.
        const heads = await mapWithConcurrency(allowed, 10, async (channel) => ({
          channel,
          ...(await readHead(identity.tenantId, channel, ports)),
        }));
        frames.unshift(serializeFrame({ type: 'subscribed', channels: allowed, heads }));
      }
      return frames;
    }
    case 'unsubscribe': {
      const channels = unique(message.channels);
      await ports.unsubscribe(connectionId, identity, channels);
      return [serializeFrame({ type: 'unsubscribed', channels })];
    }
    case 'resume': {
      const requested = message.channels.map((c) => c.channel);
      const permitted = splitAllowed(identity, unique(requested), 'resume');
      const { allowed, frames } = await withinQuota(permitted, connectionId, ports, quotas, 'resume');
      if (allowed.length === 0) return frames;
      // Subscribe first: an event published from now on is delivered live even if the audit
      // query below misses it; one seen both ways is dropped by the client by `id`.
      await ports.subscribe(connectionId, identity, allowed);
      const out = [serializeFrame({ type: 'subscribed', channels: allowed })];
      const allowedSet = new Set(allowed);
      const seen = new Set<string>();
      const replayed: Envelope[] = [];
      for (const request of message.channels) {
        if (!allowedSet.has(request.channel) || seen.has(request.channel)) continue;
        seen.add(request.channel);
        const outcome = await resumeChannelRequest(identity.tenantId, request, ports, settings);
        out.push(...outcome.messages);
        replayed.push(...(outcome.replayedEvents ?? []));
      }
      await recordReplayed(replayed, context, ports);
      return [...out, ...frames];
    }
    case 'fetch': {
      const { channel, fromSeq, toSeq } = message;
      if (toSeq - fromSeq >= settings.maxEvents) {
        return [
          serializeFrame(
            errorFrame(
              'INVALID_MESSAGE',
              `A fetch covers fewer than ${settings.maxEvents} numbers (toSeq - fromSeq < ${settings.maxEvents}); split the range`,
              'fetch',
            ),
          ),
        ];
      }
      // The subscription check also covers the token: only an allowed channel can be subscribed.
      if (!(await ports.isSubscribed(connectionId, channel))) {
        return [
          serializeFrame(
            errorFrame('NOT_SUBSCRIBED', `Subscribe to ${channel} before fetching from it`, 'fetch'),
          ),
        ];
      }
      const outcome = await fetchRange(identity.tenantId, message, ports, settings);
      await recordReplayed(outcome.events ?? [], context, ports);
      return [...outcome.messages];
    }
    case 'ack': {
      // No reply: a receipt costs one inbound message and nothing more.
      if (ports.receipts) await recordReceipts(message.ids, context, ports.receipts);
      return [];
    }
  }
}

async function recordReplayed(
  events: readonly Envelope[],
  context: ClientMessageContext,
  ports: ClientMessagePorts,
): Promise<void> {
  if (events.length === 0 || !ports.receipts) return;
  await ports.receipts.recordSubjects(subjectRecordsOf(events, context, 'replayed', new Date()));
}

function splitAllowed(
  identity: ConnectionIdentity,
  channels: readonly string[],
  action: string,
): { allowed: string[]; frames: string[] } {
  const allowed = channels.filter((c) => isChannelAllowed(identity.allowedChannels, c));
  const forbidden = channels.filter((c) => !isChannelAllowed(identity.allowedChannels, c));
  const frames =
    forbidden.length === 0
      ? []
      : [
          serializeFrame(
            errorFrame(
              'FORBIDDEN_CHANNEL',
              `The token does not allow channel(s): ${forbidden.join(', ')}`,
              action,
            ),
          ),
        ];
  return { allowed, frames };
}

/** Drops the channels beyond the connection's subscription quota, adding a TOO_MANY_SUBSCRIPTIONS frame. */
async function withinQuota(
  permitted: { allowed: string[]; frames: string[] },
  connectionId: string,
  ports: ClientMessagePorts,
  quotas: ConnectionQuotas,
  action: string,
): Promise<{ allowed: string[]; frames: string[] }> {
  if (permitted.allowed.length === 0) return permitted;
  const held = await ports.subscriptionsOf(connectionId);
  const max = quotas.maxSubscriptionsPerConnection;
  const { accepted, refused } = splitBySubscriptionQuota(held, permitted.allowed, max);
  if (refused.length === 0) return permitted;
  const frame = serializeFrame(
    errorFrame(
      'TOO_MANY_SUBSCRIPTIONS',
      `A connection may hold at most ${max} subscriptions; not subscribed: ${refused.join(', ')}. Unsubscribe from others first`,
      action,
    ),
  );
  return { allowed: accepted, frames: [...permitted.frames, frame] };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
