/**
 * The transport seam: the client talks to a `ClientSocket`, made by a `SocketFactory`. The default
 * factory uses the global `WebSocket` (browsers, Node 22+) and otherwise loads the `ws` package
 * lazily, so browser bundles never need it (bundlers resolve `ws` to its tiny browser stub).
 * Tests pass a fake factory.
 */
import { ConnectionError } from './errors.js';

export interface SocketCallbacks {
  onOpen(): void;
  onMessage(text: string): void;
  /** `status`: the HTTP status of a refused upgrade, where the transport can see it. */
  onClose(code: number, reason: string, status?: number): void;
  onError(error: Error): void;
}

export interface ClientSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, callbacks: SocketCallbacks) => ClientSocket | Promise<ClientSocket>;

function openNativeSocket(url: string, callbacks: SocketCallbacks): ClientSocket {
  const socket = new globalThis.WebSocket(url);
  socket.onopen = () => callbacks.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') callbacks.onMessage(event.data);
  };
  // Browsers hide the reason of a failed handshake (a refused token looks like a network error).
  socket.onerror = () => callbacks.onError(new ConnectionError('The WebSocket connection failed'));
  socket.onclose = (event: CloseEvent) => callbacks.onClose(event.code, event.reason);
  return socket;
}

// A name passed at run time keeps bundlers from pulling `ws` (or its browser stub) into browser bundles.
const load = (name: string): Promise<unknown> => import(name);

async function openNodeSocket(url: string, callbacks: SocketCallbacks): Promise<ClientSocket> {
  const { WebSocket } = (await load('ws')) as typeof import('ws');
  const socket = new WebSocket(url);
  let status: number | undefined;
  // A refused upgrade (401/403) is reported by `ws` as this response, then a 1006 close.
  socket.on('unexpected-response', (request, response) => {
    status = response.statusCode;
    request.destroy();
    callbacks.onClose(1006, response.statusMessage ?? '', status);
  });
  socket.on('open', () => callbacks.onOpen());
  socket.on('message', (data, isBinary) => {
    if (!isBinary) callbacks.onMessage(data.toString());
  });
  socket.on('error', (error) => callbacks.onError(new ConnectionError(error.message, { cause: error })));
  socket.on('close', (code, reason) => {
    if (status === undefined) callbacks.onClose(code, reason.toString());
  });
  return socket;
}

export const defaultSocketFactory: SocketFactory = (url, callbacks) =>
  typeof globalThis.WebSocket === 'function'
    ? openNativeSocket(url, callbacks)
    : openNodeSocket(url, callbacks);
