/** API Gateway WebSocket event shapes (REQUEST authorizer, CONNECT, MESSAGE, DISCONNECT), as AWS sends them. */
import { randomBytes, randomUUID } from 'node:crypto';

export interface ApiContext {
  readonly apiId: string;
  readonly stage: string;
  readonly domainName: string;
  readonly region: string;
}

export type EventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

export interface RequestInfo {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
}

function requestTime(now: Date): string {
  // API Gateway's CLF-like format, e.g. 09/Apr/2026:12:34:56 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())} +0000`;
}

export function requestContext(
  api: ApiContext,
  request: RequestInfo,
  routeKey: string,
  eventType: EventType,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = new Date();
  return {
    routeKey,
    eventType,
    extendedRequestId: randomBytes(8).toString('base64'),
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: request.connectedAt,
    requestTimeEpoch: now.getTime(),
    identity: { sourceIp: request.sourceIp, userAgent: request.userAgent },
    requestId: randomUUID(),
    domainName: api.domainName,
    connectionId: request.connectionId,
    apiId: api.apiId,
    ...extra,
  };
}

export function methodArn(api: ApiContext, routeKey: string): string {
  return `arn:aws:execute-api:${api.region}:000000000000:${api.apiId}/${api.stage}/${routeKey}`;
}

/** Connection ids look like API Gateway's (base64, ending in `=`), so URL encoding is exercised. */
export function newConnectionId(): string {
  return `${randomBytes(10).toString('base64').replace(/[+/]/g, 'A').slice(0, 15)}=`;
}
