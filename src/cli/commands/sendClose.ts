/**
 * `outbox-relay send-close [--tenant <id> | --connection <id>] [--reason <text>]`: post a `close`
 * frame to connected clients, asking them to reconnect later and resume — before a deploy, for
 * example. Every tenant at once needs a confirmation (or `--yes`). Gone connections are removed.
 */

import { createConnectionsApi } from '../../aws/connectionsApi.js';
import { getConnectionsRepository } from '../../aws/connectionsRepository.js';
import { topology } from '../../contract/topology.js';
import { sendCloseFrames } from '../../core/goingAway.js';
import { CliError } from '../errors.js';
import { nameArg, outputFormat, parseCommandArgs, positiveInt } from '../ops/args.js';
import { confirm } from '../ops/confirm.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';

export const summary =
  'send-close [--tenant <id> | --connection <id> | --yes] [--dry-run]: ask clients to reconnect later';

export const usage = `Usage: outbox-relay send-close (--tenant <id> | --connection <id> | --yes) [--reason <text>] [--reconnect-after <ms>] [--disconnect] [--dry-run]
Posts a "close" frame (reconnect after --reconnect-after ms, default 2000, and resume) to:
  --tenant <id>       every connection of one tenant
  --connection <id>   one connection (ids from "connections list")
  (neither)           every connection of every tenant: asks for confirmation; --yes confirms in scripts
--disconnect also closes each connection from the server side once its frame is sent (a client
that ignores the frame is cut all the same; the SDK reconnects after the delay and resumes).
--dry-run lists who would be told, and sends nothing.`;

export const completion = {
  words: [] as string[],
  options: ['tenant', 'connection', 'reason', 'reconnect-after', 'disconnect', 'yes', 'dry-run'],
};

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    tenant: { type: 'string' },
    connection: { type: 'string' },
    reason: { type: 'string', default: 'server maintenance' },
    'reconnect-after': { type: 'string' },
    yes: { type: 'boolean', default: false },
    disconnect: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  });
  if (positionals.length > 0)
    throw new CliError(`unexpected argument "${positionals[0]}"; see "outbox-relay send-close --help"`, 2);
  if (values.tenant !== undefined && values.connection !== undefined)
    throw new CliError('pass --tenant or --connection, not both', 2);
  const tenantId = nameArg('tenantId', values.tenant, '--tenant');
  const reconnectAfterMs = positiveInt(values['reconnect-after'], 'reconnect-after', 2_000, 3_600_000);
  const out = createOutput(outputFormat(values));
  const dryRun = values['dry-run'];
  const ctx = await openContext(values);
  if (values.tenant === undefined && values.connection === undefined && !dryRun) {
    // Asked before anything is read or sent: a script without --yes stops here.
    await confirm(`Send a close frame to every connection of every tenant on ${ctx.description}?`, {
      yes: values.yes,
      what: 'send-close to every tenant',
    });
  }
  const repo = getConnectionsRepository();

  let ids: string[];
  if (values.connection !== undefined) {
    const record = await repo.getConnection(values.connection);
    if (!record) throw new CliError(`no connection ${values.connection} (see "connections list")`);
    ids = [record.connectionId];
  } else {
    ids = (await repo.listConnections(tenantId)).map((c) => c.connectionId);
  }
  const scope =
    values.connection !== undefined
      ? `connection ${values.connection}`
      : values.tenant !== undefined
        ? `tenant ${values.tenant}`
        : 'every tenant';
  if (dryRun) {
    out.result(
      { dryRun: true, scope, connections: ids.length, connectionIds: ids },
      ids.map((id) => ({ connectionId: id })),
    );
    out.line(`Dry run: ${ids.length} connection(s) of ${scope} would be told to reconnect; nothing sent.`);
    return 0;
  }
  const api = createConnectionsApi(ctx.require(topology.webSocket.managementEndpointEnv));
  out.progress(`sending close frames to ${scope}…`);
  const result = await sendCloseFrames(
    {
      listConnectionIds: async () => ids,
      post: (connectionId, body) => api.post(connectionId, body),
      deleteConnection: async (connectionId) => {
        await repo.deleteConnection(connectionId);
      },
      ...(values.disconnect ? { disconnect: (connectionId: string) => api.disconnect(connectionId) } : {}),
    },
    { ...(tenantId ? { tenantId } : {}), reason: values.reason, reconnectAfterMs },
  );
  out.result({ dryRun: false, scope, ...result });
  out.line(
    `${result.sent} of ${result.connections} connection(s) of ${scope} told to reconnect after ${reconnectAfterMs} ms${values.disconnect ? ` (${result.disconnected} disconnected)` : ''}; ${result.gone} already gone, ${result.failed.length} failed`,
  );
  if (result.failed.length > 0) out.table(result.failed, ['connectionId', 'error']);
  return result.failed.length > 0 ? 1 : 0;
}
