/**
 * `outbox-relay tail --tenant <id> --channel <name> [--type <t>]`: print a channel's events as they
 * are recorded, by polling the audit table's by-channel index. It reads only DynamoDB, so it works
 * the same against the local runtime and a deployed stack, and needs no token or socket.
 *
 * Positions sort by the event's own time, and an event can be audited after one with a later time
 * (a retry, a slow producer): each poll therefore looks back `LOOKBACK_MS` before the newest
 * position seen and skips ids already printed.
 */
import { getAuditRepository } from '../../aws/auditRepository.js';
import type { Envelope } from '../../core/envelope.js';
import { CliError } from '../errors.js';
import { outputFormat, parseCommandArgs, positiveInt, timeOption } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';

export const summary =
  "tail --tenant <id> --channel <name> [--type <t>]: print a channel's events as they are recorded";

export const usage = `Usage: outbox-relay tail --tenant <id> --channel <name> [--type <type|prefix.*>] [--since <time>]
                         [--interval <ms>] [--max <n>]
Prints each event of the channel as the audit records it (a second or so after it is published),
until Ctrl-C or --max events. Starts from now, or from --since (ISO-8601 or 15m, 2h, 1d ago).
--type keeps one type, or a prefix with ".*" (order.*). --output jsonl prints one envelope a line.
Polls the audit table every --interval ms (default 1000): works locally and against --stack alike.`;

export const completion = {
  words: [] as string[],
  options: ['tenant', 'channel', 'type', 'since', 'interval', 'max'],
};

/** How far behind the newest position each poll looks again (late-recorded events). */
const LOOKBACK_MS = 2 * 60_000;
/** Ids remembered for de-duplication (older ones are far behind the look-back window). */
const REMEMBER = 10_000;

export function typeMatcher(pattern: string | undefined): (type: string) => boolean {
  if (pattern === undefined) return () => true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return (type) => type.startsWith(prefix);
  }
  return (type) => type === pattern;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    tenant: { type: 'string' },
    channel: { type: 'string' },
    type: { type: 'string' },
    since: { type: 'string' },
    interval: { type: 'string' },
    max: { type: 'string' },
  });
  if (positionals.length > 0)
    throw new CliError(`unexpected argument "${positionals[0]}"; see "outbox-relay tail --help"`, 2);
  if (!values.tenant || !values.channel)
    throw new CliError(
      `tail needs --tenant <id> and --channel <name> (the audit indexes events per channel); see "outbox-relay tail --help"`,
      2,
    );
  const intervalMs = positiveInt(values.interval, 'interval', 1_000, 60_000);
  const max = values.max === undefined ? undefined : positiveInt(values.max, 'max', 1, 1_000_000);
  const matches = typeMatcher(values.type);
  const out = createOutput(outputFormat(values));
  const ctx = await openContext(values);
  const repo = getAuditRepository();
  const start = timeOption(values.since, 'since') ?? new Date();
  let newest = start.toISOString();
  const printed = new Set<string>();
  let count = 0;
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  out.progress(`tailing ${values.tenant}/${values.channel} on ${ctx.description} (Ctrl-C to stop)…`);
  if (out.format === 'table') console.log(['TIME', 'ID', 'TYPE', 'RESOURCE'].join('  '));
  try {
    while (!stop) {
      const from = new Date(
        Math.max(Date.parse(newest.split('#')[0] ?? newest) - LOOKBACK_MS, start.getTime()) - 1,
      ).toISOString();
      let after: string | undefined = from;
      do {
        const page = await repo.queryChannel(values.tenant, values.channel, {
          limit: 1000,
          ascending: true,
          ...(after !== undefined ? { afterPosition: after } : {}),
        });
        for (const event of page.events) {
          if (printed.has(event.id)) continue;
          printed.add(event.id);
          if (printed.size > REMEMBER) printed.delete(printed.values().next().value ?? '');
          if (event.position > newest) newest = event.position;
          if (!matches(event.type)) continue;
          print(out.format, event);
          count += 1;
          if (max !== undefined && count >= max) return 0;
        }
        after = page.nextPosition;
      } while (after !== undefined && !stop);
      if (!stop) await new Promise((done) => setTimeout(done, intervalMs));
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function print(format: string, event: Envelope): void {
  if (format === 'table') console.log([event.time, event.id, event.type, event.resourceId ?? ''].join('  '));
  else console.log(JSON.stringify(event));
}
