/** Errors the client reports through `on('error', …)` and `ready()`; callers branch on `instanceof`. */

/** `ready()` was awaited on, or the client was used after, `close()`. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
  constructor() {
    super('The client was closed for good; create a new one');
  }
}

/** The socket could not be opened or failed (refused token, network, server gone); the client reconnects. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
}

/** `getToken` threw or returned something that is not a non-empty string; the client retries with back-off. */
export class TokenError extends Error {
  override readonly name = 'TokenError';
}

/** The server answered with an `error` frame (code and sentence as sent). */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: string,
    message: string,
    readonly action: string | undefined,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A frame that is not JSON or not a frame of the protocol; it is reported and skipped. */
export class MalformedFrameError extends Error {
  override readonly name = 'MalformedFrameError';
  constructor(readonly frame: string) {
    super(`Not a protocol frame: ${frame.slice(0, 200)}`);
  }
}

/** A subscription's handler (or its `parse`) threw for an event; the event counts as delivered. */
export class HandlerError extends Error {
  override readonly name = 'HandlerError';
  constructor(
    readonly channel: string,
    readonly eventId: string,
    options: { cause: unknown },
  ) {
    super(`Handler of ${channel} threw on ${eventId}`, options);
  }
}

/**
 * The server refused the credentials: HTTP 401/403 at the upgrade (visible in Node; browsers hide
 * it), close code 1008 or 4401/4403, or `getToken` asked to stop (`status` undefined).
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly status: number | undefined,
    message = `Token refused (${status})`,
  ) {
    super(message);
  }
}
