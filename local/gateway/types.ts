/** Shapes shared by the local WebSocket gateway's server, router and management API. */
import type { WebSocket } from 'ws';

/** Invoke a handler of `topology.functions` by name with an event; resolves to its result. */
export type Invoke = (functionName: string, event: unknown) => Promise<unknown>;

/** What the fault injector (local/faults) answers for a `@connections` call; structurally typed to stay decoupled. */
export interface ConnectionFaultHook {
  readonly active: boolean;
  connectionFault(
    connectionId: string,
  ): { readonly statusCode: 410 | 500; readonly closeConnection: boolean } | undefined;
  delay?(hop: 'managementApi'): Promise<void>;
}

export interface GatewayConnection {
  readonly connectionId: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** The authorizer's context plus `principalId`, passed to every route as `requestContext.authorizer`. */
  readonly authorizer: Record<string, unknown>;
  /** Set when the socket was killed server-side without `$disconnect` (`dropConnection`). */
  dropped: boolean;
  readonly timers: NodeJS.Timeout[];
  /** Messages of one connection are routed one after the other. */
  queue: Promise<void>;
}

/** What the `@connections` API did, for the bench (messages, 32 KB units) and tests. */
export interface GatewayStats {
  /** PostToConnection calls, including refused ones. */
  postCalls: number;
  /** Messages delivered to clients and their bytes / billed 32 KB units. */
  messages: number;
  bytes: number;
  units: number;
  gone: number;
  errors: number;
}

export interface GatewayLimits {
  /** Largest inbound or outbound message (API Gateway: 128 KB; larger inbound → close 1009). */
  readonly maxMessageBytes: number;
  /** Idle timeout (API Gateway: 10 minutes). */
  readonly idleTimeoutMs: number;
  /** Connection duration limit (API Gateway: 2 hours). */
  readonly maxConnectionMs: number;
  /** How long before the duration limit the gateway sends a `close` frame. */
  readonly closeNoticeMs: number;
}
