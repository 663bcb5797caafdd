/** Typed errors of the WebSocket area: callers branch on `instanceof`, never on message text. */

export const TOKEN_REFUSALS = [
  'missing',
  'malformed',
  'expired',
  'bad_signature',
  'bad_claims',
  'wrong_issuer',
  'missing_exp',
  'lifetime_too_long',
  'not_yet_valid',
] as const;
export type TokenRefusal = (typeof TOKEN_REFUSALS)[number];

/** The `$connect` token was missing or did not verify: API Gateway answers 401 and no connection exists. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  constructor(
    readonly refusal: TokenRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** `@connections` answered 410: the client is gone; delete this connection record and only this one. */
export class ConnectionGoneError extends Error {
  override readonly name = 'ConnectionGoneError';
  constructor(
    readonly connectionId: string,
    options?: ErrorOptions,
  ) {
    super(`Connection ${connectionId} is gone (410)`, options);
  }
}

/** `@connections` failed for another reason (throttling, 5xx, network): worth retrying. */
export class PostToConnectionFailedError extends Error {
  override readonly name = 'PostToConnectionFailedError';
  constructor(
    readonly connectionId: string,
    readonly statusCode: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
