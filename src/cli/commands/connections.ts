/** `outbox-relay connections list [--tenant <id>]`: who is connected, since when, to which channels. */
import { getConnectionsRepository } from '../../aws/connectionsRepository.js';
import { CliError } from '../errors.js';
import { nameArg, outputFormat, parseCommandArgs } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';

export const summary =
  'connections list [--tenant <id>]: connected WebSocket clients and their subscriptions';

export const usage = `Usage: outbox-relay connections list [--tenant <id>]
One row per connection: connectionId, tenantId, subject, connectedAt, channels.`;

export const completion = { words: ['list'], options: ['tenant'] };

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { tenant: { type: 'string' } });
  if (positionals[0] !== 'list' || positionals.length > 1) {
    throw new CliError(
      `${positionals[0] === undefined ? 'missing subcommand' : `unknown subcommand "${positionals.join(' ')}"`}; see "outbox-relay connections --help"`,
      2,
    );
  }
  const tenantId = nameArg('tenantId', values.tenant, '--tenant');
  const out = createOutput(outputFormat(values));
  await openContext(values);
  const repo = getConnectionsRepository();
  const connections = await repo.listConnections(tenantId);
  const rows = await Promise.all(
    connections.map(async (connection) => ({
      connectionId: connection.connectionId,
      tenantId: connection.tenantId,
      subject: connection.subject,
      connectedAt: connection.connectedAt,
      channels: await repo.listSubscriptions(connection.connectionId),
    })),
  );
  rows.sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.connectedAt.localeCompare(b.connectedAt));
  out.result({ tenantId: values.tenant ?? null, count: rows.length, connections: rows }, rows);
  out.line(`${rows.length} connection(s)${values.tenant ? ` of tenant ${values.tenant}` : ''}`);
  out.table(rows, ['connectionId', 'tenantId', 'subject', 'connectedAt', 'channels']);
  return 0;
}
