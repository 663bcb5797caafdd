/**
 * The wire as the client speaks it: the protocol's frames and messages plus the per-channel
 * sequence fields (`seq`, `epoch`, heads, `fetch`/`fetched`). They are declared here, all
 * optional, so the client works against servers that send them and servers that do not (it then
 * falls back to event ids and positions). Type-only: nothing here reaches a bundle.
 */
import type { Envelope } from '../core/envelope.js';
import type { ClientMessage, ErrorCode, RefreshReason } from '../core/protocol.js';

/** A channel's place in its sequence: `seq` 0 means the channel has no events yet. */
export interface Head {
  readonly seq: number;
  readonly epoch: string;
}

export type WireEnvelope<TData extends Record<string, unknown> = Record<string, unknown>> =
  Envelope<TData> & {
    readonly seq?: number;
    readonly epoch?: string;
  };

/** The sequence server adds these two: a history that restarted, and a range that is gone. */
export type WireRefreshReason = RefreshReason | 'epoch_changed' | 'history_lost';

export type WireFrame =
  | { type: 'event'; event: WireEnvelope }
  | { type: 'events'; events: WireEnvelope[] }
  | { type: 'subscribed'; channels: string[]; heads?: (Head & { channel: string })[] }
  | { type: 'unsubscribed'; channels: string[] }
  | { type: 'resumed'; channel: string; replayed: number; head?: Head }
  | { type: 'pong'; id?: string }
  | { type: 'refresh'; channel: string; reason: WireRefreshReason; eventId?: string; head?: Head }
  | { type: 'close'; reason: string; reconnectAfterMs: number }
  | { type: 'error'; code: ErrorCode; message: string; action?: string }
  | { type: 'fetched'; channel: string; fromSeq: number; toSeq: number; count: number };

/** One channel of a `resume`: `afterSeq` (with `epoch`) wins over `since` on servers that know it. */
export interface ResumeItem {
  channel: string;
  since?: string;
  afterSeq?: number;
  epoch?: string;
}

export type WireMessage =
  | Exclude<ClientMessage, { action: 'resume' }>
  | { action: 'resume'; channels: ResumeItem[] }
  | { action: 'fetch'; channel: string; fromSeq: number; toSeq: number; epoch?: string };
