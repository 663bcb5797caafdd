/**
 * The local API Gateway WebSocket API: `startWebSocketGateway({ invoke })` starts a `ws` server
 * that runs the REQUEST authorizer and route handlers with API Gateway's event shapes, and the
 * `@connections` management API on the same port. Used by `local/runtime.ts`.
 *
 * ```ts
 * const gateway = await startWebSocketGateway({ invoke: (fn, event) => invokeHandler(fn, event) });
 * process.env.WEBSOCKET_MANAGEMENT_ENDPOINT = gateway.managementEndpoint;
 * // clients connect to `${gateway.url}?token=...`
 * await gateway.stop(); // `close` frames first
 * ```
 */
import { topology } from '../../src/contract/topology.js';
import {
  WEBSOCKET_IDLE_TIMEOUT_SECONDS,
  WEBSOCKET_MAX_CONNECTION_SECONDS,
  WEBSOCKET_MAX_MESSAGE_BYTES,
} from '../../src/core/limits.js';
import { GatewayServer } from './server.js';
import type { ConnectionFaultHook, GatewayLimits, GatewayStats, Invoke } from './types.js';

export { selectRoute } from './router.js';
export type { ConnectionFaultHook, GatewayLimits, GatewayStats, Invoke } from './types.js';

export interface WebSocketGatewayOptions {
  /** Port to listen on; 0 (default) lets the OS choose. */
  readonly port?: number;
  readonly host?: string;
  readonly invoke: Invoke;
  /** Override API Gateway's limits (tests shorten the idle timeout and the 2-hour limit). */
  readonly limits?: Partial<GatewayLimits>;
  /** Fault hook for `@connections` (local/faults FaultInjector fits); zero cost when absent or inactive. */
  readonly faults?: ConnectionFaultHook;
  readonly reconnectAfterMs?: number;
}

export interface WebSocketGateway {
  /** `ws://host:port/{stage}`: clients append `?token=...`. */
  readonly url: string;
  /** `http://host:port/{stage}`: the `@connections` endpoint (WEBSOCKET_MANAGEMENT_ENDPOINT). */
  readonly managementEndpoint: string;
  stop(): Promise<void>;
  /** Kill a socket server-side without `$disconnect` (a connection that vanished). */
  dropConnection(connectionId: string): boolean;
  connectionIds(): string[];
  /** What `@connections` did so far (messages, bytes, 32 KB units, 410s, errors). */
  stats(): GatewayStats;
  resetStats(): void;
  /** Install or remove the `@connections` fault hook later. */
  setFaults(faults: ConnectionFaultHook | undefined): void;
  /**
   * Send `data` to every open connection straight on the `ws` server, bypassing `@connections`:
   * the floor `npm run bench` compares the `@connections` path with. Resolves with the number of
   * connections once every send has completed.
   */
  broadcastDirect(data: string): Promise<number>;
}

/** Env to override the limits without code: OUTBOX_RELAY_WS_IDLE_TIMEOUT_MS, OUTBOX_RELAY_WS_MAX_CONNECTION_MS. */
function envMs(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export async function startWebSocketGateway(options: WebSocketGatewayOptions): Promise<WebSocketGateway> {
  const maxConnectionMs =
    options.limits?.maxConnectionMs ??
    envMs('OUTBOX_RELAY_WS_MAX_CONNECTION_MS') ??
    WEBSOCKET_MAX_CONNECTION_SECONDS * 1000;
  const limits: GatewayLimits = {
    maxMessageBytes: options.limits?.maxMessageBytes ?? WEBSOCKET_MAX_MESSAGE_BYTES,
    idleTimeoutMs:
      options.limits?.idleTimeoutMs ??
      envMs('OUTBOX_RELAY_WS_IDLE_TIMEOUT_MS') ??
      WEBSOCKET_IDLE_TIMEOUT_SECONDS * 1000,
    maxConnectionMs,
    closeNoticeMs: options.limits?.closeNoticeMs ?? Math.min(60_000, Math.floor(maxConnectionMs / 10)),
  };
  const host = options.host ?? '127.0.0.1';
  const stage = topology.webSocket.stageName;
  const server = new GatewayServer({
    port: options.port ?? 0,
    host,
    stage,
    region: process.env.AWS_REGION ?? 'us-east-1',
    limits,
    invoke: options.invoke,
    faults: options.faults,
    reconnectAfterMs: options.reconnectAfterMs ?? 1000,
  });
  const { port } = await server.listen();
  return {
    url: `ws://${host}:${port}/${stage}`,
    managementEndpoint: `http://${host}:${port}/${stage}`,
    stop: () => server.stop(),
    dropConnection: (id) => server.dropConnection(id),
    connectionIds: () => [...server.connections.keys()],
    stats: () => ({ ...server.stats }),
    resetStats: () => {
      Object.assign(server.stats, { postCalls: 0, messages: 0, bytes: 0, units: 0, gone: 0, errors: 0 });
    },
    setFaults: (faults) => {
      server.faults = faults;
    },
    broadcastDirect: async (data) => {
      const open = [...server.connections.values()].filter((connection) => !connection.dropped);
      await Promise.all(open.map((connection) => server.send(connection, data).catch(() => undefined)));
      return open.length;
    },
  };
}
