/**
 * `outbox-relay trigger --tenant <id> --channel <name> [--type] [--data '{…}'] [--wait]`: write one
 * test event through the outbox, exactly as a producer does (`appendToOutbox`), and optionally
 * wait until the audit has it, showing where it was delivered.
 */
import { getAuditRepository } from '../../aws/auditRepository.js';
import { getDocumentClient } from '../../aws/clients.js';
import { topology } from '../../contract/topology.js';
import { appendToOutbox, newOutboxEvent, validateOutboxRow } from '../../producer/index.js';
import { CliError } from '../errors.js';
import { outputFormat, parseCommandArgs, positiveInt } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { createOutput } from '../ops/output.js';
import { summariseAttempts } from './audit.js';

export const summary =
  'trigger --tenant <id> --channel <name> [--type] [--data] [--wait]: write a test event through the outbox';

export const usage = `Usage: outbox-relay trigger --tenant <id> --channel <name> [--type <type>] [--resource <id>]
                            [--data '<json object>'] [--event-id <id>] [--wait [--timeout <s>]] [--dry-run]
Writes one event into the outbox table (type defaults to outbox-relay.test, data to {"test":true}),
so it travels the whole pipeline: publisher, bus, audit, WebSocket fan-out and webhooks.
--wait waits (default 30 s) until the audit records it and prints its delivery attempts so far.
--dry-run validates the row and prints it without writing.`;

export const completion = {
  words: [] as string[],
  options: ['tenant', 'channel', 'type', 'resource', 'data', 'event-id', 'wait', 'timeout', 'dry-run'],
};

function parseData(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return { test: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`--data must be a JSON object, e.g. '{"orderId":"o-1"}'`, 2);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CliError('--data must be a JSON object (not an array or a scalar)', 2);
  return Object.fromEntries(Object.entries(value));
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    tenant: { type: 'string' },
    channel: { type: 'string' },
    type: { type: 'string', default: 'outbox-relay.test' },
    resource: { type: 'string' },
    data: { type: 'string' },
    'event-id': { type: 'string' },
    wait: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  });
  if (positionals.length > 0)
    throw new CliError(`unexpected argument "${positionals[0]}"; see "outbox-relay trigger --help"`, 2);
  if (!values.tenant || !values.channel)
    throw new CliError(
      `trigger needs --tenant <id> and --channel <name>; see "outbox-relay trigger --help"`,
      2,
    );
  const timeoutSeconds = positiveInt(values.timeout, 'timeout', 30, 3_600);
  const input = newOutboxEvent({
    tenantId: values.tenant,
    channel: values.channel,
    type: values.type,
    data: parseData(values.data),
    ...(values.resource ? { resourceId: values.resource } : {}),
    ...(values['event-id'] ? { eventId: values['event-id'] } : {}),
  });
  let row: ReturnType<typeof validateOutboxRow>;
  try {
    row = validateOutboxRow(input);
  } catch (error) {
    throw new CliError(
      `the event is not a valid outbox row: ${error instanceof Error ? error.message : String(error)}`,
      2,
    );
  }
  const out = createOutput(outputFormat(values));
  if (values['dry-run']) {
    out.result({ dryRun: true, eventId: input.eventId, row: input });
    out.line(`Dry run: event ${input.eventId} is valid; nothing written.`);
    return 0;
  }
  const ctx = await openContext(values);
  const { appended } = await appendToOutbox(getDocumentClient(), input, {
    tableName: ctx.require(topology.tables.outbox.env),
  });
  out.line(
    `Event ${row.eventId} ${appended ? 'written to the outbox' : 'was already in the outbox (not written again)'}.`,
  );
  if (!values.wait) {
    out.result({ dryRun: false, eventId: row.eventId, appended });
    out.line(`Follow it with: npx outbox-relay audit event ${row.eventId}`);
    return 0;
  }
  const audit = getAuditRepository();
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const { event, attempts } = await audit.getEventWithAttempts(row.tenantId, row.eventId);
    if (event) {
      out.result({
        dryRun: false,
        eventId: row.eventId,
        appended,
        audited: true,
        summary: summariseAttempts(attempts),
      });
      out.line(
        `Audited at ${event.recordedAt}; attempts so far: ${
          attempts.length === 0
            ? 'none (no subscriber or endpoint, or not yet)'
            : Object.entries(summariseAttempts(attempts))
                .map(([path, o]) => `${path} ${JSON.stringify(o)}`)
                .join('; ')
        }`,
      );
      return 0;
    }
    if (Date.now() > deadline) {
      out.result({ dryRun: false, eventId: row.eventId, appended, audited: false });
      throw new CliError(
        `event ${row.eventId} was not audited within ${timeoutSeconds} s; look with "outbox-relay audit event ${row.eventId}" and "outbox-relay status"`,
      );
    }
    out.progress(`waiting for the audit to record ${row.eventId}…`);
    await new Promise((done) => setTimeout(done, 500));
  }
}
