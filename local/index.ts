/**
 * `outbox-relay/local`: the offline runtime for an application's own tests. It starts DynamoDB
 * Local, fauxqs, the local bus and the local WebSocket gateway with the real handlers, and gives
 * back where they listen, the environment an AWS SDK client needs to reach them, a token minter for
 * the WebSocket, and `stop()`.
 *
 * @example
 * import { startOfflineRuntime } from 'outbox-relay/local';
 * const relay = await startOfflineRuntime();
 * try {
 *   // DynamoDB clients: endpoint relay.endpoints.dynamodb, region/credentials from relay.env;
 *   // write outbox rows to relay.outboxTableName; connect clients to relay.endpoints.webSocket.
 * } finally {
 *   await relay.stop();
 * }
 */
import { topology } from '../src/contract/topology.js';
import { type MintTokenInput, mintConnectionToken, secretKey } from '../src/core/token.js';
import { removeEndpointsFile, writeEndpointsFile } from './endpointsFile.js';
import { type RuntimeEndpoints, type RuntimeOptions, startRuntime } from './runtime.js';

export type { MintTokenInput } from '../src/core/token.js';
export type { RuntimeEndpoints } from './runtime.js';

export interface OfflineRuntimeOptions {
  /**
   * Keep tables, checkpoints, the bus archive and the JWT secret here between runs; `endpoints.json`
   * there tells the CLI (`--data-dir`) where this runtime listens while it runs. @default in memory
   */
  readonly dataDir?: string;
  /** Fixed ports. @default free ports from the OS */
  readonly ports?: RuntimeOptions['ports'];
  /** Log lines (handler errors among them) to stderr. @default false */
  readonly verbose?: boolean;
  /** Extra environment for the handlers (e.g. `{ ALLOWED_ORIGINS: '*' }`). @default none */
  readonly env?: Readonly<Record<string, string>>;
}

export interface OfflineRuntime {
  readonly endpoints: RuntimeEndpoints;
  /** Region, fake credentials, endpoints and every resource name the handlers see. */
  readonly env: Readonly<Record<string, string>>;
  /** The outbox table to write events to (with `outbox-relay/producer`). */
  readonly outboxTableName: string;
  /** A WebSocket token signed with this runtime's secret. */
  mintToken(input: MintTokenInput): Promise<string>;
  /** Resolves when every stream and queue has been worked off. */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops every process and server it started. */
  stop(): Promise<void>;
}

export async function startOfflineRuntime(options: OfflineRuntimeOptions = {}): Promise<OfflineRuntime> {
  const runtime = await startRuntime({
    quiet: options.verbose !== true,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  const env = runtime.env;
  const outboxTableName = env[topology.tables.outbox.env];
  const secret = env.JWT_SECRET;
  if (!outboxTableName || !secret) {
    await runtime.stop();
    throw new Error('offline runtime started without an outbox table or JWT secret');
  }
  // Like `npm start`: the operator CLI finds this runtime with `--data-dir <dir>`.
  if (runtime.dataDir !== undefined) writeEndpointsFile(runtime.dataDir, runtime);
  const dataDir = runtime.dataDir;
  return {
    endpoints: runtime.endpoints,
    env,
    outboxTableName,
    mintToken: (input) => mintConnectionToken(input, secretKey(secret)),
    waitForIdle: (waitOptions) => runtime.waitForIdle(waitOptions),
    stop: async () => {
      if (dataDir !== undefined) removeEndpointsFile(dataDir);
      await runtime.stop();
    },
  };
}
