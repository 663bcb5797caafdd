/**
 * `outbox-relay/client`: connect to the outbox-relay WebSocket API from a browser or Node, with
 * automatic reconnect, resume from a position, de-duplication and in-order delivery with gap
 * fetching. See docs/client.md.
 *
 * @example
 * const client = connect({ url: 'wss://…/prod', getToken: () => fetchToken() });
 * client.subscribe<{ status: string }>('orders', (event) => console.log(event.id, event.data.status));
 * await client.ready();
 */
import { OutboxRelayClient } from './client.js';
import type { ConnectOptions, RelayClient } from './types.js';

export { backoffCeilingMs, backoffDelayMs } from './backoff.js';
export { CLIENT_DEFAULTS, DEFAULT_BACKOFF } from './client.js';
export { type CloseAction, closeAction, NO_RECONNECT_CLOSE_CODES } from './closePolicy.js';
export {
  AuthError,
  ClientClosedError,
  ConnectionError,
  HandlerError,
  MalformedFrameError,
  ServerError,
  TokenError,
} from './errors.js';
export type { Lifecycle } from './lifecycle.js';
export type { ClientSocket, SocketCallbacks, SocketFactory } from './socket.js';
export type {
  ChannelPosition,
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

export type { Head } from './wire.js';

/** Opens a client; it connects at once and keeps reconnecting until `disconnect()`, `failed` or `close()`. */
export function connect(options: ConnectOptions): RelayClient {
  return new OutboxRelayClient(options);
}
