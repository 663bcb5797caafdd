/**
 * The WebSocket server (connections): accepts upgrades after the authorizer and `$connect`
 * accept, routes messages through the router, enforces API Gateway's limits (128 KB message →
 * close 1009, idle timeout, 2-hour duration with a `close` frame before it) and serves the
 * `@connections` API on the same port (`http://host:port/{stage}`).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { closeFrame, serializeFrame } from '../../src/core/frames.js';
import { type ApiContext, newConnectionId } from './events.js';
import { handleManagementRequest } from './managementApi.js';
import { Router } from './router.js';
import type { ConnectionFaultHook, GatewayConnection, GatewayLimits, GatewayStats, Invoke } from './types.js';

export interface GatewayServerOptions {
  readonly port: number;
  readonly host: string;
  readonly stage: string;
  readonly region: string;
  readonly limits: GatewayLimits;
  readonly invoke: Invoke;
  readonly faults?: ConnectionFaultHook;
  /** Delay clients are asked to wait before reconnecting after a `close` frame. */
  readonly reconnectAfterMs: number;
}

export class GatewayServer {
  readonly connections = new Map<string, GatewayConnection>();
  readonly stats: GatewayStats = { postCalls: 0, messages: 0, bytes: 0, units: 0, gone: 0, errors: 0 };
  faults: ConnectionFaultHook | undefined;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private router: Router | undefined;
  private api: ApiContext | undefined;
  private readonly sockets = new Set<Socket>();
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: GatewayServerOptions) {
    this.faults = options.faults;
    // maxPayload makes ws close an oversized inbound message with 1009, as API Gateway does.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.maxMessageBytes });
    this.http = createServer((req, res) => {
      handleManagementRequest(req, res, {
        stage: options.stage,
        limits: options.limits,
        connections: this.connections,
        stats: this.stats,
        faults: this.faults,
        send: (connection, data) => this.send(connection, data),
        close: (connection) => this.closeConnection(connection, 1000, 'Closed by the @connections API'),
        drop: (id) => this.dropConnection(id),
      })
        .then((handled) => {
          if (!handled) {
            res.writeHead(404, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: 'Not found' }));
          }
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
    });
    this.http.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.http.on('upgrade', (req, socket, head) => {
      this.upgrade(req, socket as Socket, head).catch(() => socket.destroy());
    });
  }

  async listen(): Promise<{ port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    this.api = {
      apiId: 'local000ws',
      stage: this.options.stage,
      domainName: `${this.options.host}:${port}`,
      region: this.options.region,
    };
    this.router = new Router(this.api, this.options.invoke);
    return { port };
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const router = this.router;
    if (!router || this.stopping) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (
      url.pathname !== '/' &&
      url.pathname !== `/${this.options.stage}` &&
      url.pathname !== `/${this.options.stage}/`
    ) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const request = {
      connectionId: newConnectionId(),
      connectedAt: Date.now(),
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: req.headers['user-agent'] ?? '',
    };
    const decision = await router.connect(request, req.headers, url.searchParams);
    if (!decision.accepted) {
      refuse(socket, decision.statusCode, decision.reason);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.register(ws, request, decision.authorizer));
  }

  private register(
    socket: WebSocket,
    request: { connectionId: string; connectedAt: number; sourceIp: string; userAgent: string },
    authorizer: Record<string, unknown>,
  ): void {
    const router = this.router;
    if (!router) return;
    const { limits } = this.options;
    const connection: GatewayConnection = {
      ...request,
      socket,
      lastActiveAt: request.connectedAt,
      authorizer,
      dropped: false,
      timers: [],
      queue: Promise.resolve(),
    };
    this.connections.set(request.connectionId, connection);

    const idle = (): NodeJS.Timeout =>
      setTimeout(
        () => this.closeConnection(connection, 1001, 'Going away: idle timeout'),
        limits.idleTimeoutMs,
      );
    let idleTimer = idle();
    const noticeAt = Math.max(0, limits.maxConnectionMs - limits.closeNoticeMs);
    connection.timers.push(
      setTimeout(() => {
        this.send(
          connection,
          serializeFrame(closeFrame('connection_limit', this.options.reconnectAfterMs)),
        ).catch(() => {});
      }, noticeAt),
      setTimeout(
        () => this.closeConnection(connection, 1001, 'Going away: connection duration limit'),
        limits.maxConnectionMs,
      ),
    );

    socket.on('message', (data, isBinary) => {
      connection.lastActiveAt = Date.now();
      clearTimeout(idleTimer);
      idleTimer = idle();
      const body = isBinary ? Buffer.from(data as Buffer).toString('utf8') : rawToString(data);
      connection.queue = connection.queue.then(() =>
        router.message(request, authorizer, body).then(() => undefined),
      );
    });
    socket.on('close', (code, reason) => {
      clearTimeout(idleTimer);
      for (const timer of connection.timers) clearTimeout(timer);
      if (this.connections.get(request.connectionId) === connection)
        this.connections.delete(request.connectionId);
      if (connection.dropped) return;
      // API Gateway invokes $disconnect after the connection is gone (a 410 from then on).
      connection.queue = connection.queue.then(() =>
        router.disconnect(request, authorizer, code, reason.toString('utf8') || 'Connection closed'),
      );
    });
    socket.on('error', () => socket.terminate());
  }

  send(connection: GatewayConnection, data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (connection.socket.readyState !== WebSocket.OPEN) {
        reject(new Error('socket not open'));
        return;
      }
      connection.socket.send(data, { binary: false }, (error) => (error ? reject(error) : resolve()));
    });
  }

  closeConnection(connection: GatewayConnection, code: number, reason: string): void {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.close(code, reason);
    else connection.socket.terminate();
  }

  /** Kill a socket without `$disconnect`: the record stays until the first 410 prunes it. */
  dropConnection(connectionId: string): boolean {
    const connection = this.connections.get(connectionId);
    if (!connection) return false;
    connection.dropped = true;
    this.connections.delete(connectionId);
    for (const timer of connection.timers) clearTimeout(timer);
    connection.socket.terminate();
    return true;
  }

  /** Send `close` to every client, close them (with `$disconnect`), then stop listening. */
  stop(reason = 'shutdown'): Promise<void> {
    this.stopped ??= this.shutdown(reason);
    return this.stopped;
  }

  private async shutdown(reason: string): Promise<void> {
    this.stopping = true;
    const all = [...this.connections.values()];
    await Promise.all(
      all.map((c) =>
        this.send(c, serializeFrame(closeFrame(reason, this.options.reconnectAfterMs))).catch(
          () => undefined,
        ),
      ),
    );
    for (const c of all) this.closeConnection(c, 1001, 'Going away');
    await Promise.race([
      Promise.all(all.map((c) => c.queue)),
      new Promise((resolve) => setTimeout(resolve, 5000)),
    ]);
    for (const c of all) c.socket.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function refuse(socket: Socket, status: number, reason: string): void {
  const body = JSON.stringify({ message: reason });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
