/**
 * `outbox-relay send-close [--tenant <id>] [--reason <text>] [--reconnect-after <ms>]`: post a
 * `close` frame to every connected client (of one tenant), asking it to reconnect later and
 * resume — before a deploy, for example. Gone connections are removed on the way.
 */

import { createConnectionsApi } from '../../aws/connectionsApi.js';
import { getConnectionsRepository } from '../../aws/connectionsRepository.js';
import { topology } from '../../contract/topology.js';
import { sendCloseFrames } from '../../core/goingAway.js';
import { CliError } from '../errors.js';
import { nameArg, parseCommandArgs, positiveInt } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';

export const summary =
  'send-close [--tenant <id>] [--reason <text>]: ask connected clients to reconnect later (e.g. before a deploy)';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    tenant: { type: 'string' },
    reason: { type: 'string', default: 'server maintenance' },
    'reconnect-after': { type: 'string' },
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"`, 2);
  const tenantId = nameArg('tenantId', values.tenant, '--tenant');
  const reconnectAfterMs = positiveInt(values['reconnect-after'], 'reconnect-after', 2_000, 3_600_000);
  const out = createOutput(values.json);
  const ctx = await openContext(values);
  const repo = getConnectionsRepository();
  const api = createConnectionsApi(ctx.require(topology.webSocket.managementEndpointEnv));
  out.progress(`sending close frames${values.tenant ? ` to tenant ${values.tenant}` : ''}…`);
  const result = await sendCloseFrames(
    {
      listConnectionIds: async (tenantId) =>
        (await repo.listConnections(tenantId)).map((c) => c.connectionId),
      post: (connectionId, body) => api.post(connectionId, body),
      deleteConnection: async (connectionId) => {
        await repo.deleteConnection(connectionId);
      },
    },
    { ...(tenantId ? { tenantId } : {}), reason: values.reason, reconnectAfterMs },
  );
  out.result(result);
  out.line(
    `${result.sent} of ${result.connections} connection(s) told to reconnect after ${reconnectAfterMs} ms; ${result.gone} already gone, ${result.failed.length} failed`,
  );
  if (result.failed.length > 0) out.table(result.failed, ['connectionId', 'error']);
  return result.failed.length > 0 ? 1 : 0;
}
