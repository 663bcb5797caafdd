/**
 * `outbox-relay dlq list|show|redrive|delete|purge <kind>`: what failed and why, putting it back,
 * and discarding (with an audit note of who discarded what) what can never be delivered.
 * Every redrive handles each message at most once per run and reports what it left behind.
 *
 * | kind        | holds                                                            | redrive                                           |
 * | ----------- | ---------------------------------------------------------------- | ------------------------------------------------- |
 * | publisher   | metadata of stream batches that exhausted retries (shard, range)  | re-read the range from the stream, publish again  |
 * | webhook     | deliveries given up (reason, attempts, last status)               | back to the delivery queue with a fresh schedule  |
 * | quarantine  | rows that could not become events (reason, the record)            | publish the stored record again, or `--row` fixed |
 * | audit, fanout, dispatch | bus events a consumer failed 5 times                  | back to the consumer's queue                      |
 * | bus         | events EventBridge could not put on a target queue                | to the target queue named in the message          |
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { getAuditRepository } from '../../aws/auditRepository.js';
import { getDocumentClient, getEventBridgeClient, getSqsClient } from '../../aws/clients.js';
import { putEntries } from '../../aws/eventBus.js';
import { getQuarantineRepository } from '../../aws/quarantineRepository.js';
import { getWebhookEndpointsRepository } from '../../aws/webhookEndpointsRepository.js';
import { readDlqMessage } from '../../aws/webhookQueues.js';
import { topology } from '../../contract/topology.js';
import { toChangeRecord } from '../../core/dynamoStreamRecord.js';
import { publishChangeRecords } from '../../core/publish.js';
import type { QuarantineItem } from '../../core/quarantine.js';
import { parseTrackedTablesConfig } from '../../core/trackedTable.js';
import { TRACKED_TABLES_ENV } from '../../core/trackedTables.js';
import { deadLetterSchema } from '../../core/webhookMessages.js';
import { validateOutboxRow } from '../../producer/index.js';
import { CliError } from '../errors.js';
import { outputFormat, parseCommandArgs, positiveInt, refuseInapplicable } from '../ops/args.js';
import {
  boundedRedrive,
  type ReceivedDlqMessage,
  type RedriveEntry,
  type RedriveReport,
} from '../ops/boundedRedrive.js';
import { type OpsContext, openContext } from '../ops/context.js';
import { createOutput, type Output } from '../ops/output.js';
import { parseStreamBatchFailure } from '../ops/publisherFailure.js';
import { redrivePublisherFailure } from '../ops/publisherRedrive.js';
import { queueRedriveDecider, webhookRedriveDecider } from '../ops/redriveDeciders.js';
import { type DlqMessage, peekMessages, queueDepth, sqsDlqPort, toDlqMessage } from '../ops/sqsDlq.js';
import { StreamRangeUnavailableError } from '../ops/streamRange.js';
import { didYouMean } from '../suggest.js';

/** The tenant-note code of a discarded DLQ message or quarantine entry (`audit notes <tenant>`). */
export const DISCARD_NOTE_CODE = 'dlq.discarded';

export const summary = 'dlq list|show|redrive|delete|purge <kind>: what failed, why, and putting it back';

export const usage = `Usage:
  outbox-relay dlq list <kind> [--limit <n>]
  outbox-relay dlq show <kind> [--id <messageId|quarantineId>] [--limit <n>]
  outbox-relay dlq redrive <kind> [--dry-run] [--id <messageId>] [--endpoint <endpointId>] [--limit <n>]
  outbox-relay dlq redrive quarantine --id <quarantineId> [--row <fixed-row.json>] [--dry-run]
  outbox-relay dlq delete <kind> --id <messageId|quarantineId> [--operator <name>] [--reason <text>] [--dry-run]
  outbox-relay dlq purge <kind> --yes [--operator <name>] [--reason <text>] [--dry-run]

Kinds: publisher, webhook, quarantine, audit, fanout, dispatch, bus.
A redrive handles each message at most once per run (it stops at the depth it started with) and
leaves in the DLQ, with a reason, what cannot be delivered now: a webhook message whose endpoint is
disabled, removed or unknown. Discard those with "dlq delete"; delete and purge write an audit note
(tenant notes, "audit notes <tenant>") naming the operator (--operator, else the OS user).
Progress ("n of depth") goes to stderr.`;

export const completion = {
  words: ['list', 'show', 'redrive', 'delete', 'purge'],
  options: ['id', 'endpoint', 'row', 'limit', 'dry-run', 'yes', 'operator', 'reason'],
};

const ACTIONS = ['list', 'show', 'redrive', 'delete', 'purge'] as const;
type Action = (typeof ACTIONS)[number];
/** The options each action takes (the global ones aside). */
const ACTION_OPTIONS: Record<Action, readonly string[]> = {
  list: ['limit'],
  show: ['id', 'limit'],
  redrive: ['dry-run', 'id', 'endpoint', 'row', 'limit'],
  delete: ['id', 'operator', 'reason', 'dry-run'],
  purge: ['yes', 'operator', 'reason', 'dry-run'],
};

/** SQS dead-letter queues by kind, and the queue a redrive sends their messages back to. */
const QUEUE_KINDS = {
  publisher: { dlq: topology.queues.publisherDlq.env, source: undefined },
  webhook: { dlq: topology.queues.webhookDlq.env, source: topology.queues.webhookDeliveryQueue.env },
  audit: { dlq: topology.queues.auditDlq.env, source: topology.queues.auditQueue.env },
  fanout: { dlq: topology.queues.fanoutDlq.env, source: topology.queues.fanoutQueue.env },
  dispatch: { dlq: topology.queues.webhookDispatchDlq.env, source: topology.queues.webhookDispatchQueue.env },
  bus: { dlq: topology.queues.busTargetDlq.env, source: undefined },
} as const;
type QueueKind = keyof typeof QUEUE_KINDS;
type Kind = QueueKind | 'quarantine';

export const KINDS: readonly Kind[] = [...(Object.keys(QUEUE_KINDS) as QueueKind[]), 'quarantine'];

function isKind(value: string | undefined): value is Kind {
  return value === 'quarantine' || (value !== undefined && Object.hasOwn(QUEUE_KINDS, value));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}

/** One row per DLQ message, with what an operator needs to decide. */
export function describeMessage(kind: QueueKind, message: DlqMessage): Record<string, unknown> {
  const base = { id: message.messageId, sent: message.sentAt ?? '', receives: message.receiveCount };
  if (kind === 'publisher') {
    const failure = parseStreamBatchFailure(message.body);
    if (!failure) return { ...base, detail: 'not an on-failure record' };
    const info = failure.DDBStreamBatchInfo;
    return {
      ...base,
      shard: info.shardId,
      range: `${info.startSequenceNumber}..${info.endSequenceNumber}`,
      records: info.batchSize ?? '',
      detail:
        `${failure.requestContext?.condition ?? ''} ${failure.responseContext?.functionError ?? ''}`.trim(),
    };
  }
  if (kind === 'webhook') {
    const letter = deadLetterSchema.safeParse(parseJson(message.body));
    if (letter.success) {
      const d = letter.data;
      return {
        ...base,
        event: d.eventId,
        tenant: d.tenantId,
        endpoint: d.endpointId,
        reason: d.deadLetter.code,
        attempts: d.deadLetter.attempts,
        detail: d.deadLetter.lastStatus
          ? `HTTP ${d.deadLetter.lastStatus}`
          : (d.deadLetter.lastError ?? d.deadLetter.reason),
      };
    }
    const bare = readDlqMessage(message.body);
    return bare
      ? {
          ...base,
          event: bare.eventId,
          tenant: bare.tenantId,
          endpoint: bare.endpointId,
          reason: 'max_receives',
        }
      : { ...base, detail: 'not a delivery message' };
  }
  // audit, fanout, dispatch, bus: the EventBridge event as the rule delivered it.
  const event = parseJson(message.body);
  const errorCode = message.attributes.ERROR_CODE?.StringValue;
  return {
    ...base,
    event: field(event, 'detail', 'id') ?? '',
    tenant: field(event, 'detail', 'tenantId') ?? '',
    type: field(event, 'detail-type') ?? '',
    detail: errorCode ? `${errorCode}: ${message.attributes.ERROR_MESSAGE?.StringValue ?? ''}` : '',
  };
}

const COLUMNS: Record<QueueKind, string[]> = {
  publisher: ['id', 'sent', 'shard', 'range', 'records', 'detail'],
  webhook: ['id', 'sent', 'event', 'tenant', 'endpoint', 'reason', 'attempts', 'detail'],
  audit: ['id', 'sent', 'receives', 'event', 'tenant', 'type'],
  fanout: ['id', 'sent', 'receives', 'event', 'tenant', 'type'],
  dispatch: ['id', 'sent', 'receives', 'event', 'tenant', 'type'],
  bus: ['id', 'sent', 'event', 'tenant', 'type', 'detail'],
};

/** A quarantine entry as the CLI shows it (its id is what `--id` takes; no table keys). */
export function quarantineView(item: QuarantineItem, withRecord = false): Record<string, unknown> {
  return {
    id: item.sk,
    quarantined: item.quarantinedAt,
    reason: item.reason,
    source: item.source,
    event: item.eventId ?? '',
    tenant: item.tenantId ?? '',
    message: item.message,
    ...(withRecord
      ? { recordTruncated: item.recordTruncated, record: parseJson(item.record) ?? item.record }
      : {}),
  };
}
const QUARANTINE_COLUMNS = ['id', 'quarantined', 'reason', 'source', 'event', 'tenant', 'message'];

/** A DLQ message as the CLI shows it: the kind's columns, and the body with `show`. */
function messageView(kind: QueueKind, message: DlqMessage, withBody: boolean): Record<string, unknown> {
  return {
    ...describeMessage(kind, message),
    ...(withBody ? { body: parseJson(message.body) ?? message.body } : {}),
  };
}

async function list(ctx: OpsContext, kind: Kind, limit: number, out: Output): Promise<number> {
  if (kind === 'quarantine') {
    const { items } = await getQuarantineRepository().list({ limit });
    const rows = items.map((item) => quarantineView(item));
    out.result({ kind, count: rows.length, items: rows }, rows);
    out.line(`quarantine: ${items.length} entr${items.length === 1 ? 'y' : 'ies'} in the last 14 days`);
    out.table(rows, QUARANTINE_COLUMNS);
    return 0;
  }
  const url = ctx.require(QUEUE_KINDS[kind].dlq);
  const sqs = getSqsClient();
  const depth = await queueDepth(sqs, url);
  const messages = await peekMessages(sqs, url, limit);
  const rows = messages.map((m) => messageView(kind, m, false));
  out.result({ kind, depth: depth.visible + depth.inFlight, count: rows.length, items: rows }, rows);
  out.line(`${kind} DLQ: ${depth.visible} message(s) waiting, ${depth.inFlight} in flight`);
  out.table(rows, COLUMNS[kind]);
  return 0;
}

/** Fields printed as pretty JSON under the table rather than as one very wide cell. */
const LONG_FIELDS = new Set(['body', 'record']);

/** One record as `field  value` lines, then its body or record as indented JSON. */
function printRecord(out: Output, record: Record<string, unknown>): void {
  out.table(
    Object.entries(record)
      .filter(([field]) => !LONG_FIELDS.has(field))
      .map(([field, value]) => ({
        field,
        value: typeof value === 'object' && value !== null ? JSON.stringify(value) : value,
      })),
    ['field', 'value'],
  );
  for (const field of LONG_FIELDS) {
    if (!(field in record)) continue;
    const value = record[field];
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    out.line(`${field}:\n${text.replace(/^/gm, '  ')}`);
  }
  out.line('');
}

async function show(
  ctx: OpsContext,
  kind: Kind,
  id: string | undefined,
  limit: number,
  out: Output,
): Promise<number> {
  if (kind === 'quarantine') {
    const repo = getQuarantineRepository();
    const items = id
      ? [await repo.get(id)].flatMap((item) => (item ? [item] : []))
      : (await repo.list({ limit })).items;
    if (id && items.length === 0) throw new CliError(`no quarantine entry ${id}`);
    const rows = items.map((item) => quarantineView(item, true));
    out.result({ kind, count: rows.length, items: rows }, rows);
    for (const row of rows) printRecord(out, row);
    if (rows.length === 0) out.line('(none)');
    return 0;
  }
  const url = ctx.require(QUEUE_KINDS[kind].dlq);
  const messages = (await peekMessages(getSqsClient(), url, id ? 10_000 : limit)).filter(
    (m) => !id || m.messageId === id,
  );
  if (id && messages.length === 0) throw new CliError(`no message ${id} in the ${kind} DLQ`);
  const rows = messages.map((m) => messageView(kind, m, true));
  out.result({ kind, count: rows.length, items: rows }, rows);
  for (const row of rows) printRecord(out, row);
  if (rows.length === 0) out.line('(none)');
  return 0;
}

interface RedriveOptions {
  readonly dryRun: boolean;
  readonly id: string | undefined;
  readonly endpoint: string | undefined;
  readonly row: string | undefined;
  readonly limit: number | undefined;
}

/** Prints a bounded-redrive report; exit 1 when something meant to move is still in the DLQ. */
function reportRedrive(
  kind: string,
  report: RedriveReport,
  out: Output,
  verbs: { done: string; would: string } = { done: 'redriven', would: 'would redrive' },
): number {
  const rename = (result: RedriveEntry['result']) =>
    result === 'redriven' ? verbs.done : result === 'would redrive' ? verbs.would : result;
  const shown = report.entries
    .filter((e) => e.result !== 'not selected')
    .map((e) => ({ id: e.messageId, result: rename(e.result), detail: e.detail }));
  out.result({ kind, ...report, entries: shown }, shown);
  out.table(shown, ['id', 'result', 'detail']);
  const verb = report.dryRun ? verbs.would : verbs.done;
  out.line(
    `${report.handled} of ${report.depth} handled: ${report.redriven} ${verb}, ${report.skipped} left in the DLQ (see detail), ${report.failed} failed${report.notSelected > 0 ? `, ${report.notSelected} not selected` : ''}; stopped: ${report.stoppedBecause}${report.dryRun ? ' (dry run: nothing changed)' : ''}`,
  );
  return !report.dryRun && (report.failed > 0 || report.skipped > 0) ? 1 : 0;
}

const progressTo =
  (out: Output, kind: string) =>
  (handled: number, depth: number): void =>
    out.progress(`${kind} DLQ: ${handled} of ${depth}`);

/** The webhook DLQ redrive (`dlq redrive webhook` and `webhooks redrive`). */
export async function redriveWebhooks(
  ctx: OpsContext,
  options: Pick<RedriveOptions, 'dryRun' | 'endpoint' | 'limit' | 'id'>,
  out: Output,
): Promise<number> {
  const sqs = getSqsClient();
  const deliveryQueueUrl = ctx.require(topology.queues.webhookDeliveryQueue.env);
  const endpoints = getWebhookEndpointsRepository();
  const decide = webhookRedriveDecider({
    findEndpoint: (tenantId, endpointId) => endpoints.get(tenantId, endpointId),
    sendDelivery: async (message) => {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: deliveryQueueUrl, MessageBody: JSON.stringify(message) }),
      );
    },
    endpointId: options.endpoint,
  });
  const report = await boundedRedrive(sqsDlqPort(sqs, ctx.require(QUEUE_KINDS.webhook.dlq)), {
    dryRun: options.dryRun,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    decide: (message) =>
      options.id !== undefined && message.messageId !== options.id
        ? { action: 'skip', notSelected: true, reason: 'not the selected message' }
        : decide(message),
    onProgress: progressTo(out, 'webhook'),
    ...(options.id !== undefined ? { stopWhen: foundOne } : {}),
  });
  return reportRedrive('webhook', report, out);
}

const foundOne = (entries: readonly RedriveEntry[]) => entries.some((e) => e.result !== 'not selected');

async function redrivePublisher(ctx: OpsContext, options: RedriveOptions, out: Output): Promise<number> {
  const sqs = getSqsClient();
  const deps = {
    streams: new DynamoDBStreamsClient({}),
    eventBridge: getEventBridgeClient(),
    quarantine: getQuarantineRepository(),
    trackedTables: parseTrackedTablesConfig(ctx.optional(TRACKED_TABLES_ENV)),
    eventBusName: ctx.require(topology.bus.env),
  };
  const report = await boundedRedrive(sqsDlqPort(sqs, ctx.require(QUEUE_KINDS.publisher.dlq)), {
    dryRun: options.dryRun,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.id !== undefined ? { stopWhen: foundOne } : {}),
    onProgress: progressTo(out, 'publisher'),
    decide: (message) => {
      if (options.id !== undefined && message.messageId !== options.id)
        return { action: 'skip', notSelected: true, reason: 'not the selected message' };
      const failure = parseStreamBatchFailure(message.body);
      if (!failure) return { action: 'skip', reason: 'not an on-failure record' };
      const info = failure.DDBStreamBatchInfo;
      return {
        action: 'redrive',
        describe: `stream ${info.shardId} ${info.startSequenceNumber}..${info.endSequenceNumber} re-read and published`,
        perform: async () => {
          try {
            const outcome = await redrivePublisherFailure(failure, deps);
            const counts: Record<string, number> = {};
            for (const r of outcome.records) counts[r.status] = (counts[r.status] ?? 0) + 1;
            const text =
              Object.entries(counts)
                .map(([status, n]) => `${n} ${status}`)
                .join(', ') || 'no records';
            if (!outcome.complete) throw new Error(`not every record was published: ${text}`);
          } catch (error) {
            if (error instanceof StreamRangeUnavailableError)
              throw new Error(error.message, { cause: error });
            throw error;
          }
        },
      };
    },
  });
  deps.streams.destroy();
  return reportRedrive('publisher', report, out);
}

async function readFixedRow(rowFile: string): Promise<ReturnType<typeof validateOutboxRow>> {
  const text = await readFile(rowFile, 'utf8').catch(() => {
    throw new CliError(`cannot read ${rowFile}`);
  });
  try {
    return validateOutboxRow(parseJson(text));
  } catch (error) {
    throw new CliError(
      `the fixed row in ${rowFile} is still invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function redriveQuarantine(ctx: OpsContext, options: RedriveOptions, out: Output): Promise<number> {
  const { id, row: rowFile, dryRun } = options;
  if (!id)
    throw new CliError(
      'dlq redrive quarantine needs --id <quarantineId> (the id column of "dlq list quarantine")',
      2,
    );
  const repo = getQuarantineRepository();
  const item = await repo.get(id);
  if (!item) throw new CliError(`no quarantine entry ${id} (ids are listed by "dlq list quarantine")`);
  if (rowFile) {
    // The operator fixed the row: overwrite it in the outbox, so the publisher publishes it (MODIFY).
    const row = await readFixedRow(rowFile);
    if (dryRun) {
      out.result({ kind: 'quarantine', id, dryRun, result: 'would append', eventId: row.eventId });
      out.line(`Dry run: the row in ${rowFile} is valid; ${row.eventId} would be written to the outbox.`);
      return 0;
    }
    await getDocumentClient().send(
      new PutCommand({ TableName: ctx.require(topology.tables.outbox.env), Item: row }),
    );
    await repo.delete(id);
    out.result({ kind: 'quarantine', id, dryRun, result: 'appended', eventId: row.eventId });
    out.line(
      `Row ${row.eventId} written to the outbox; the publisher will publish it. Quarantine entry ${id} removed.`,
    );
    return 0;
  }
  if (item.source !== 'publisher') {
    throw new CliError(
      `entry ${id} came from the ${item.source} consumer (${item.reason}); only publisher entries can be re-published. Write the corrected outbox row (fields eventId, tenantId, channel, type, data, occurredAt; see "dlq show quarantine --id ${id}") to a file and pass it with --row <file>`,
    );
  }
  if (dryRun) {
    out.result({ kind: 'quarantine', id, dryRun, result: 'would publish', eventId: item.eventId ?? null });
    out.line(`Dry run: the stored record of ${id} would be published again (${item.reason} last time).`);
    return 0;
  }
  const record = toChangeRecord(parseJson(item.record), 0);
  const result = await publishChangeRecords(
    [record],
    {
      putEntries: (entries) => {
        const started = Date.now();
        return putEntries(getEventBridgeClient(), entries, {
          remainingTimeMs: () => 60_000 - (Date.now() - started),
        });
      },
      quarantine: async (entry) => {
        await repo.put(entry);
      },
    },
    {
      trackedTables: parseTrackedTablesConfig(ctx.optional(TRACKED_TABLES_ENV)),
      eventBusName: ctx.require(topology.bus.env),
      now: new Date(),
    },
  );
  const outcome = result.records[0];
  if (outcome?.status === 'published') await repo.delete(id);
  out.result({ kind: 'quarantine', id, dryRun, result: outcome });
  if (outcome?.status === 'published') {
    out.line(`Event ${outcome.eventId ?? ''} published; quarantine entry ${id} removed.`);
    return 0;
  }
  out.line(
    `Not published: ${outcome?.status ?? 'no result'}${outcome?.reason ? ` (${outcome.reason})` : ''}${outcome?.failure ? `: ${outcome.failure}` : ''}. Fix the row and pass it with --row <file>.`,
  );
  return 1;
}

async function redrive(ctx: OpsContext, kind: Kind, options: RedriveOptions, out: Output): Promise<number> {
  if (options.endpoint !== undefined && kind !== 'webhook')
    throw new CliError('--endpoint applies only to dlq redrive webhook', 2);
  if (options.row !== undefined && kind !== 'quarantine')
    throw new CliError('--row applies only to dlq redrive quarantine', 2);
  if (kind === 'quarantine') return redriveQuarantine(ctx, options, out);
  if (kind === 'publisher') return redrivePublisher(ctx, options, out);
  if (kind === 'webhook') return redriveWebhooks(ctx, options, out);
  const sqs = getSqsClient();
  const queueUrls = Object.fromEntries(
    Object.entries(topology.queues).flatMap(([name, q]) => {
      const url = ctx.optional(q.env);
      return url ? [[name, url]] : [];
    }),
  );
  const targetOf = (message: ReceivedDlqMessage): { url: string; name: string } | { reason: string } => {
    if (kind !== 'bus') return { url: ctx.require(QUEUE_KINDS[kind].source), name: `the ${kind} queue` };
    // EventBridge names the target it failed to reach; map its ARN to our queue by name.
    const arn = message.attributes.TARGET_ARN ?? '';
    const queueName = arn.split(':').at(-1) ?? '';
    const found = Object.entries(queueUrls).find(
      ([, url]) => queueName !== '' && url.endsWith(`/${queueName}`),
    );
    return found
      ? { url: found[1], name: `the ${found[0]} queue` }
      : { reason: `its target ${arn || '(none named)'} is not a queue of this stack` };
  };
  const report = await boundedRedrive(sqsDlqPort(sqs, ctx.require(QUEUE_KINDS[kind].dlq)), {
    dryRun: options.dryRun,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.id !== undefined ? { stopWhen: foundOne } : {}),
    onProgress: progressTo(out, kind),
    decide: queueRedriveDecider({
      targetOf,
      send: async (queueUrl, body) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      },
      messageId: options.id,
    }),
  });
  return reportRedrive(kind, report, out);
}

/** Who discards: `--operator`, else the OS user (the audit note names them). */
function operatorName(flag: string | undefined): string {
  if (flag) return flag;
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The audit tenant used for a discarded message that names no tenant. */
const NO_TENANT = '-';

interface DiscardOptions {
  readonly dryRun: boolean;
  readonly operator: string;
  readonly reason: string | undefined;
}

async function recordDiscard(
  kind: Kind,
  id: string,
  tenantId: string | undefined,
  detail: Record<string, unknown>,
  options: DiscardOptions,
): Promise<void> {
  await getAuditRepository().recordTenantNote(tenantId || NO_TENANT, {
    code: DISCARD_NOTE_CODE,
    message: `${options.operator} discarded ${kind} DLQ message ${id}${options.reason ? `: ${options.reason}` : ''}`,
    details: { kind, id, operator: options.operator, reason: options.reason ?? null, ...detail },
  });
}

/** What a discarded body keeps in the audit note (the audit item must stay far below 400 KB). */
const DISCARD_BODY_CHARS = 16 * 1024;

async function discardQueue(
  ctx: OpsContext,
  kind: QueueKind,
  id: string | undefined,
  options: DiscardOptions,
  out: Output,
): Promise<number> {
  const sqs = getSqsClient();
  const report = await boundedRedrive(sqsDlqPort(sqs, ctx.require(QUEUE_KINDS[kind].dlq)), {
    dryRun: options.dryRun,
    ...(id !== undefined ? { stopWhen: foundOne } : {}),
    onProgress: progressTo(out, kind),
    decide: (message) => {
      if (id !== undefined && message.messageId !== id)
        return { action: 'skip', notSelected: true, reason: 'not the selected message' };
      const view = describeMessage(kind, toDlqMessage({ MessageId: message.messageId, Body: message.body }));
      const tenant = typeof view.tenant === 'string' ? view.tenant : undefined;
      return {
        action: 'redrive',
        describe:
          [
            view.event ? `event ${String(view.event)}` : '',
            view.endpoint ? `endpoint ${String(view.endpoint)}` : '',
            tenant ? `tenant ${tenant}` : '',
          ]
            .filter(Boolean)
            .join(', ') || 'message',
        perform: () =>
          recordDiscard(
            kind,
            message.messageId,
            tenant,
            { message: view, body: message.body.slice(0, DISCARD_BODY_CHARS) },
            options,
          ),
      };
    },
  });
  if (id !== undefined && report.entries.every((e) => e.result === 'not selected'))
    throw new CliError(`no message ${id} in the ${kind} DLQ (ids are listed by "dlq list ${kind}")`);
  return reportRedrive(kind, report, out, { done: 'deleted', would: 'would delete' });
}

async function discardQuarantine(
  ids: readonly string[],
  options: DiscardOptions,
  out: Output,
): Promise<number> {
  const repo = getQuarantineRepository();
  const entries: Record<string, unknown>[] = [];
  for (const [index, id] of ids.entries()) {
    const item = await repo.get(id);
    if (!item) throw new CliError(`no quarantine entry ${id} (ids are listed by "dlq list quarantine")`);
    if (!options.dryRun) {
      await recordDiscard('quarantine', id, item.tenantId, { entry: quarantineView(item, false) }, options);
      await repo.delete(id);
    }
    entries.push({
      id,
      result: options.dryRun ? 'would delete' : 'deleted',
      detail: `${item.reason}: ${item.message}`,
    });
    out.progress(`quarantine: ${index + 1} of ${ids.length}`);
  }
  out.result({ kind: 'quarantine', dryRun: options.dryRun, count: entries.length, entries }, entries);
  out.table(entries, ['id', 'result', 'detail']);
  out.line(
    `${entries.length} quarantine entr${entries.length === 1 ? 'y' : 'ies'} ${options.dryRun ? 'would be deleted (dry run: nothing changed)' : 'deleted'}`,
  );
  return 0;
}

/** How far back a quarantine purge looks (entries expire after their retention anyway). */
const PURGE_QUARANTINE_DAYS = 31;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    id: { type: 'string' },
    endpoint: { type: 'string' },
    row: { type: 'string' },
    limit: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    operator: { type: 'string' },
    reason: { type: 'string' },
  });
  const [action, kind, extra] = positionals;
  if (!ACTIONS.some((a) => a === action)) {
    throw new CliError(
      `unknown or missing action "${action ?? ''}"${didYouMean(action ?? '', ACTIONS)}; actions: ${ACTIONS.join(', ')}`,
      2,
    );
  }
  const act = action as Action;
  if (!isKind(kind))
    throw new CliError(
      `unknown or missing kind "${kind ?? ''}"${didYouMean(kind ?? '', KINDS)}; kinds: ${KINDS.join(', ')}`,
      2,
    );
  if (extra !== undefined)
    throw new CliError(`unexpected argument "${extra}"; see "outbox-relay dlq --help"`, 2);
  refuseInapplicable(values, ACTION_OPTIONS[act], `dlq ${act}`);
  const out = createOutput(outputFormat(values));
  const dryRun = values['dry-run'];
  if (act === 'delete' && !values.id)
    throw new CliError(
      `dlq delete needs --id <id> (listed by "dlq list ${kind}"); to empty the DLQ use "dlq purge ${kind} --yes"`,
      2,
    );
  if (act === 'purge' && !values.yes && !dryRun)
    throw new CliError(
      `dlq purge discards every message of the ${kind} DLQ: pass --yes (or --dry-run to see what it would discard)`,
      2,
    );
  const ctx = await openContext(values);
  if (act === 'list') return list(ctx, kind, positiveInt(values.limit, 'limit', 50, 10_000), out);
  if (act === 'show') return show(ctx, kind, values.id, positiveInt(values.limit, 'limit', 50, 10_000), out);
  if (act === 'redrive') {
    return redrive(
      ctx,
      kind,
      {
        dryRun,
        id: values.id,
        endpoint: values.endpoint,
        row: values.row,
        limit: values.limit === undefined ? undefined : positiveInt(values.limit, 'limit', 10_000, 1_000_000),
      },
      out,
    );
  }
  const discard = { dryRun, operator: operatorName(values.operator), reason: values.reason };
  if (kind === 'quarantine') {
    if (act === 'delete') return discardQuarantine([values.id ?? ''], discard, out);
    const since = new Date(Date.now() - PURGE_QUARANTINE_DAYS * 86_400_000);
    const { items } = await getQuarantineRepository().list({ since, limit: 100_000 });
    return discardQuarantine(
      items.map((item) => item.sk),
      discard,
      out,
    );
  }
  return discardQueue(ctx, kind, act === 'delete' ? values.id : undefined, discard, out);
}
