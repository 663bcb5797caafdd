/**
 * What a closed connection means for the next attempt. Close codes from the server (or the
 * gateway) and an HTTP status seen at the upgrade map to one of three answers.
 */

/** Close codes in this range tell the client not to reconnect (the server's "4xx"). */
export const NO_RECONNECT_CLOSE_CODES = { from: 4400, to: 4499 } as const;

/** `reconnect` with back-off, `auth` (credentials refused: a fresh token, or `failed`), `stop` (`failed`). */
export type CloseAction = 'reconnect' | 'auth' | 'stop';

/**
 * 1000 normal, 1001 going away, 1006 abnormal, 1009 too big, 1011 server error and every other
 * code: reconnect with back-off (a too-big or lost frame is recovered by the resume). 1008 policy
 * violation, 4401, 4403 and HTTP 401/403 at the upgrade: the credentials were refused. 4400–4499
 * otherwise: do not reconnect.
 */
export function closeAction(code: number, httpStatus?: number): CloseAction {
  if (httpStatus === 401 || httpStatus === 403 || code === 1008 || code === 4401 || code === 4403)
    return 'auth';
  return code >= NO_RECONNECT_CLOSE_CODES.from && code <= NO_RECONNECT_CLOSE_CODES.to ? 'stop' : 'reconnect';
}
