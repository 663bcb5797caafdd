/**
 * Going away: post a `close` frame (reconnect after a delay, then resume) to every connection of
 * a tenant, or of all tenants. The ops CLI's `send-close` calls this before a deploy; the local
 * gateway sends the same frame on shutdown and before the 2-hour limit.
 *
 * ```ts
 * const result = await sendCloseFrames(
 *   { listConnectionIds: async (t) => (await repo.listConnections(t)).map((c) => c.connectionId),
 *     post: api.post, deleteConnection: (id) => repo.deleteConnection(id).then(() => {}) },
 *   { tenantId: 't1', reason: 'deploy', reconnectAfterMs: 2000 },
 * );
 * ```
 */
import { mapWithConcurrency } from './concurrency.js';
import { closeFrame, serializeFrame } from './frames.js';
import { ConnectionGoneError } from './websocketErrors.js';

export interface GoingAwayPorts {
  listConnectionIds(tenantId?: string): Promise<readonly string[]>;
  post(connectionId: string, body: string): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;
  /**
   * Close the connection from the server side after its `close` frame (`send-close --disconnect`):
   * a client that ignores the frame is cut all the same. Absent: the frame alone.
   */
  disconnect?(connectionId: string): Promise<void>;
}

export interface GoingAwayOptions {
  /** Only this tenant's connections; all tenants when absent. */
  readonly tenantId?: string;
  readonly reason: string;
  readonly reconnectAfterMs?: number;
  readonly concurrency?: number;
}

export interface GoingAwayResult {
  readonly connections: number;
  readonly sent: number;
  /** Already gone (410): their records were deleted. */
  readonly gone: number;
  readonly failed: readonly { connectionId: string; error: string }[];
  /** Closed by the server after the frame (only with the `disconnect` port). */
  readonly disconnected: number;
}

export async function sendCloseFrames(
  ports: GoingAwayPorts,
  options: GoingAwayOptions,
): Promise<GoingAwayResult> {
  const ids = await ports.listConnectionIds(options.tenantId);
  const body = serializeFrame(closeFrame(options.reason, options.reconnectAfterMs ?? 1000));
  let sent = 0;
  let gone = 0;
  let disconnected = 0;
  const failed: { connectionId: string; error: string }[] = [];
  await mapWithConcurrency(ids, options.concurrency ?? 50, async (connectionId) => {
    try {
      await ports.post(connectionId, body);
      sent += 1;
      if (ports.disconnect) {
        await ports.disconnect(connectionId);
        disconnected += 1;
      }
    } catch (error) {
      if (error instanceof ConnectionGoneError) {
        gone += 1;
        await ports.deleteConnection(connectionId).catch(() => undefined);
      } else {
        failed.push({ connectionId, error: error instanceof Error ? error.message : String(error) });
      }
    }
  });
  return { connections: ids.length, sent, gone, failed, disconnected };
}
