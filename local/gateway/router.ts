/**
 * The route dispatcher: builds API Gateway's events and invokes the handlers named by the
 * topology (REQUEST authorizer and `$connect` on upgrade, a route per message selected by
 * `$request.body.action` with `$default` as fallback, `$disconnect` on close).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { topology } from '../../src/contract/topology.js';
import { type ApiContext, methodArn, type RequestInfo, requestContext } from './events.js';
import type { Invoke } from './types.js';

const routeFunctions = new Map<string, string>(
  topology.webSocket.routes.map((r) => [r.routeKey, r.function]),
);

export type ConnectDecision =
  | { readonly accepted: true; readonly authorizer: Record<string, unknown> }
  | { readonly accepted: false; readonly statusCode: number; readonly reason: string };

/** `$request.body.action` if it names a route, else `$default`. */
export function selectRoute(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'action' in parsed &&
      typeof parsed.action === 'string'
    ) {
      const action = parsed.action;
      if (!action.startsWith('$') && routeFunctions.has(action)) return action;
    }
  } catch {
    // not JSON: API Gateway falls back to $default too
  }
  return '$default';
}

function headerRecords(headers: IncomingHttpHeaders): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    // Capitalised like API Gateway forwards them (Host, Sec-WebSocket-Key, ...).
    const key = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
    single[key] = values.join(',');
    multi[key] = values;
  }
  return { headers: single, multiValueHeaders: multi };
}

function queryRecords(query: URLSearchParams): {
  queryStringParameters: Record<string, string> | undefined;
  multiValueQueryStringParameters: Record<string, string[]> | undefined;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of query) {
    single[key] = value;
    multi[key] = [...(multi[key] ?? []), value];
  }
  const empty = Object.keys(single).length === 0;
  return {
    queryStringParameters: empty ? undefined : single,
    multiValueQueryStringParameters: empty ? undefined : multi,
  };
}

function statusOf(result: unknown): number {
  if (
    typeof result === 'object' &&
    result !== null &&
    'statusCode' in result &&
    typeof result.statusCode === 'number'
  ) {
    return result.statusCode;
  }
  return 200; // a handler returning nothing is a success, as with Lambda proxy integrations
}

function isAllowPolicy(result: unknown): {
  allowed: boolean;
  context: Record<string, unknown>;
  principalId: unknown;
} {
  if (typeof result !== 'object' || result === null)
    return { allowed: false, context: {}, principalId: undefined };
  const principalId = 'principalId' in result ? result.principalId : undefined;
  const context =
    'context' in result && typeof result.context === 'object' && result.context !== null
      ? Object.fromEntries(Object.entries(result.context))
      : {};
  const doc = 'policyDocument' in result ? result.policyDocument : undefined;
  const statements =
    typeof doc === 'object' && doc !== null && 'Statement' in doc && Array.isArray(doc.Statement)
      ? doc.Statement
      : [];
  const effects = statements.map((s: unknown) =>
    typeof s === 'object' && s !== null && 'Effect' in s ? s.Effect : undefined,
  );
  // IAM semantics: any explicit Deny wins; otherwise an Allow is needed.
  const allowed = effects.includes('Allow') && !effects.includes('Deny');
  return { allowed, context, principalId };
}

export class Router {
  constructor(
    private readonly api: ApiContext,
    private readonly invoke: Invoke,
  ) {}

  /** REQUEST authorizer, then `$connect`; the connection exists only if both accept. */
  async connect(
    request: RequestInfo,
    headers: IncomingHttpHeaders,
    query: URLSearchParams,
  ): Promise<ConnectDecision> {
    const h = headerRecords(headers);
    const q = queryRecords(query);
    let authorizer: Record<string, unknown> = {};
    const authorizerFunction = topology.webSocket.authorizer;
    try {
      const result = await this.invoke(authorizerFunction, {
        type: 'REQUEST',
        methodArn: methodArn(this.api, '$connect'),
        ...h,
        ...q,
        stageVariables: {},
        requestContext: requestContext(this.api, request, '$connect', 'CONNECT'),
      });
      const policy = isAllowPolicy(result);
      if (!policy.allowed) return { accepted: false, statusCode: 403, reason: 'Forbidden' };
      authorizer = { ...policy.context, principalId: policy.principalId };
    } catch (error) {
      // A Lambda authorizer signals 401 by failing with exactly "Unauthorized".
      if (error instanceof Error && error.message === 'Unauthorized') {
        return { accepted: false, statusCode: 401, reason: 'Unauthorized' };
      }
      return { accepted: false, statusCode: 500, reason: 'Internal server error' };
    }
    try {
      const result = await this.invokeRoute('$connect', {
        ...h,
        ...q,
        requestContext: requestContext(this.api, request, '$connect', 'CONNECT', { authorizer }),
        isBase64Encoded: false,
      });
      const status = statusOf(result);
      if (status < 200 || status > 299)
        return { accepted: false, statusCode: status, reason: 'Refused by $connect' };
    } catch {
      return { accepted: false, statusCode: 500, reason: 'Internal server error' };
    }
    return { accepted: true, authorizer };
  }

  /** Route one client message; handler failures are swallowed (API Gateway only logs them). */
  async message(request: RequestInfo, authorizer: Record<string, unknown>, body: string): Promise<string> {
    const routeKey = selectRoute(body);
    await this.invokeRoute(routeKey, {
      requestContext: requestContext(this.api, request, routeKey, 'MESSAGE', {
        authorizer,
        messageId: `${request.connectionId.slice(0, 8)}${Date.now().toString(36)}`,
      }),
      body,
      isBase64Encoded: false,
    }).catch(() => undefined);
    return routeKey;
  }

  async disconnect(
    request: RequestInfo,
    authorizer: Record<string, unknown>,
    statusCode: number,
    reason: string,
  ): Promise<void> {
    await this.invokeRoute('$disconnect', {
      headers: {},
      multiValueHeaders: {},
      requestContext: requestContext(this.api, request, '$disconnect', 'DISCONNECT', {
        authorizer,
        disconnectStatusCode: statusCode,
        disconnectReason: reason,
      }),
      isBase64Encoded: false,
    }).catch(() => undefined);
  }

  private invokeRoute(routeKey: string, event: unknown): Promise<unknown> {
    const fn = routeFunctions.get(routeKey);
    if (fn === undefined) return Promise.resolve({ statusCode: 200 });
    return this.invoke(fn, event);
  }
}
