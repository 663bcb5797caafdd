/**
 * `outbox-relay/client`: connect to the outbox-relay WebSocket API from a browser or Node, with
 * automatic reconnect, resume, de-duplication and ordered delivery. See docs/client.md.
 *
 * @example
 * const client = connect({ url: 'wss://…/prod', getToken: () => fetchToken() });
 * client.subscribe<{ status: string }>('orders', (event) => console.log(event.id, event.data.status));
 * await client.ready();
 */
import { OutboxRelayClient } from './client.js';
import type { ConnectOptions, RelayClient } from './types.js';

export { backoffCeilingMs, backoffDelayMs } from './backoff.js';
export {
  DEFAULT_BACKOFF,
  DEFAULT_DEDUPE_WINDOW,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_RESUME_RETRIES,
  DEFAULT_RESUME_TIMEOUT_MS,
} from './client.js';
export {
  ClientClosedError,
  ConnectionError,
  HandlerError,
  MalformedFrameError,
  ServerError,
  TokenError,
} from './errors.js';
export type { ClientSocket, SocketCallbacks, SocketFactory } from './socket.js';
export type {
  ClientEvents,
  ConnectionState,
  ConnectOptions,
  Envelope,
  EventData,
  EventHandler,
  RefreshNotice,
  RelayClient,
  SubscribeOptions,
  Subscription,
  TokenSource,
} from './types.js';

/** Opens a client; it connects at once and keeps reconnecting until `close()`. */
export function connect(options: ConnectOptions): RelayClient {
  return new OutboxRelayClient(options);
}
