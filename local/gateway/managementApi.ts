/**
 * The `@connections` management API on HTTP, in API Gateway's REST-JSON wire format, so the
 * unmodified `ApiGatewayManagementApiClient` works against it:
 * `POST /{stage}/@connections/{id}` (body = the message), `GET` (connection info), `DELETE`;
 * an unknown id answers 410 `GoneException` (header `x-amzn-errortype`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { billingUnits } from '../../src/core/frames.js';
import type { ConnectionFaultHook, GatewayConnection, GatewayLimits, GatewayStats } from './types.js';

export interface ManagementApiDeps {
  readonly stage: string;
  readonly limits: GatewayLimits;
  readonly connections: ReadonlyMap<string, GatewayConnection>;
  readonly stats: GatewayStats;
  readonly faults?: ConnectionFaultHook;
  /** Send a message to a connection's socket. */
  send(connection: GatewayConnection, data: string): Promise<void>;
  /** Close a connection as API Gateway does (then `$disconnect`). */
  close(connection: GatewayConnection): void;
  /** Kill a connection without `$disconnect` (what an injected 410 simulates). */
  drop(connectionId: string): void;
}

function error(res: ServerResponse, status: number, type: string, message: string | null): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(JSON.stringify({ message }));
}

/** The request body, or undefined past `limit` bytes (events, not `for await`: this is the hot path of every fan-out). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** Handle a request if it is for `@connections`; returns false when the path is not ours. */
export async function handleManagementRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ManagementApiDeps,
): Promise<boolean> {
  const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const match = /^\/(?:([^/]+)\/)?@connections\/([^/]+)$/.exec(pathname);
  if (!match) return false;
  const [, stage, rawId] = match;
  if (stage !== undefined && stage !== deps.stage) {
    error(res, 403, 'ForbiddenException', `Stage ${stage} does not exist`);
    return true;
  }
  const connectionId = decodeURIComponent(rawId ?? '');
  if (deps.faults?.active) await deps.faults.delay?.('managementApi');
  const connection = deps.connections.get(connectionId);
  const method = req.method ?? 'GET';

  if (method === 'POST') {
    deps.stats.postCalls += 1;
    const body = await readBody(req, deps.limits.maxMessageBytes);
    const fault = deps.faults?.active ? deps.faults.connectionFault(connectionId) : undefined;
    if (fault?.statusCode === 410 || !connection || connection.dropped) {
      if (fault?.closeConnection && connection) deps.drop(connectionId);
      deps.stats.gone += 1;
      error(res, 410, 'GoneException', null);
      return true;
    }
    if (fault?.statusCode === 500) {
      deps.stats.errors += 1;
      error(res, 500, 'InternalServerErrorException', 'Internal server error (fault injected)');
      return true;
    }
    if (body === undefined) {
      deps.stats.errors += 1;
      error(
        res,
        413,
        'PayloadTooLargeException',
        `Message is larger than ${deps.limits.maxMessageBytes} bytes`,
      );
      return true;
    }
    try {
      await deps.send(connection, body.toString('utf8'));
    } catch {
      deps.stats.gone += 1;
      error(res, 410, 'GoneException', null);
      return true;
    }
    deps.stats.messages += 1;
    deps.stats.bytes += body.byteLength;
    deps.stats.units += billingUnits(body.byteLength);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end();
    return true;
  }
  // Drain any body so keep-alive sockets stay usable.
  await readBody(req, 1024 * 1024);
  if (!connection || connection.dropped) {
    error(res, 410, 'GoneException', null);
    return true;
  }
  if (method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      }),
    );
    return true;
  }
  if (method === 'DELETE') {
    deps.close(connection);
    res.writeHead(204);
    res.end();
    return true;
  }
  error(res, 405, 'MethodNotAllowedException', `${method} is not supported on @connections`);
  return true;
}
