/**
 * `outbox-relay dlq list|show|redrive <kind>`: what failed and why, and putting it back.
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
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { getDocumentClient, getEventBridgeClient, getSqsClient } from '../../aws/clients.js';
import { putEntries } from '../../aws/eventBus.js';
import { getQuarantineRepository } from '../../aws/quarantineRepository.js';
import { readDlqMessage, redriveWebhookDlq } from '../../aws/webhookQueues.js';
import { topology } from '../../contract/topology.js';
import { toChangeRecord } from '../../core/dynamoStreamRecord.js';
import { publishChangeRecords } from '../../core/publish.js';
import type { QuarantineItem } from '../../core/quarantine.js';
import { parseTrackedTablesConfig } from '../../core/trackedTable.js';
import { TRACKED_TABLES_ENV } from '../../core/trackedTables.js';
import { deadLetterSchema } from '../../core/webhookMessages.js';
import { validateOutboxRow } from '../../producer/index.js';
import { CliError } from '../errors.js';
import { parseCommandArgs, positiveInt } from '../ops/args.js';
import { type OpsContext, openContext } from '../ops/context.js';
import { createOutput, type Output } from '../ops/output.js';
import { parseStreamBatchFailure } from '../ops/publisherFailure.js';
import { redrivePublisherFailure } from '../ops/publisherRedrive.js';
import {
  type DlqMessage,
  deleteMessages,
  moveMessages,
  peekMessages,
  queueDepth,
  receiveBatch,
  releaseMessages,
  toDlqMessage,
} from '../ops/sqsDlq.js';
import { StreamRangeUnavailableError } from '../ops/streamRange.js';

export const summary =
  'dlq list|show|redrive <publisher|webhook|quarantine|audit|fanout|dispatch|bus>: what failed, why, and putting it back';

const USAGE = `Usage:
  outbox-relay dlq list <kind> [--limit <n>]
  outbox-relay dlq show <kind> [--id <messageId|quarantineId>]
  outbox-relay dlq redrive <kind> [--id <id>] [--endpoint <endpointId>] [--row <fixed-row.json>] [--limit <n>]
kinds: publisher, webhook, quarantine, audit, fanout, dispatch, bus`;

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

function quarantineRow(item: QuarantineItem): Record<string, unknown> {
  return {
    id: item.sk,
    quarantined: item.quarantinedAt,
    reason: item.reason,
    source: item.source,
    event: item.eventId ?? '',
    tenant: item.tenantId ?? '',
    message: item.message,
  };
}
const QUARANTINE_COLUMNS = ['id', 'quarantined', 'reason', 'source', 'event', 'tenant', 'message'];

async function list(ctx: OpsContext, kind: Kind, limit: number, out: Output): Promise<number> {
  if (kind === 'quarantine') {
    const { items } = await getQuarantineRepository().list({ limit });
    out.result({ kind, count: items.length, items });
    out.line(`quarantine: ${items.length} entr${items.length === 1 ? 'y' : 'ies'} in the last 14 days`);
    out.table(items.map(quarantineRow), QUARANTINE_COLUMNS);
    return 0;
  }
  const url = ctx.require(QUEUE_KINDS[kind].dlq);
  const sqs = getSqsClient();
  const depth = await queueDepth(sqs, url);
  const messages = await peekMessages(sqs, url, limit);
  out.result({
    kind,
    queueUrl: url,
    depth,
    messages: messages.map((m) => ({ ...describeMessage(kind, m), body: parseJson(m.body) ?? m.body })),
  });
  out.line(`${kind} DLQ: ${depth.visible} message(s) waiting, ${depth.inFlight} in flight`);
  out.table(
    messages.map((m) => describeMessage(kind, m)),
    COLUMNS[kind],
  );
  return 0;
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
    const shown = items.map((item) => ({ ...item, record: parseJson(item.record) ?? item.record }));
    out.result({ kind, items: shown });
    for (const item of shown) out.line(JSON.stringify(item, null, 2));
    return 0;
  }
  const url = ctx.require(QUEUE_KINDS[kind].dlq);
  const messages = (await peekMessages(getSqsClient(), url, id ? 10_000 : limit)).filter(
    (m) => !id || m.messageId === id,
  );
  if (id && messages.length === 0) throw new CliError(`no message ${id} in the ${kind} DLQ`);
  const shown = messages.map((m) => ({ ...describeMessage(kind, m), body: parseJson(m.body) ?? m.body }));
  out.result({ kind, messages: shown });
  for (const message of shown) out.line(JSON.stringify(message, null, 2));
  return 0;
}

async function redrivePublisher(ctx: OpsContext, limit: number, out: Output): Promise<number> {
  const url = ctx.require(QUEUE_KINDS.publisher.dlq);
  const sqs = getSqsClient();
  const deps = {
    streams: new DynamoDBStreamsClient({}),
    eventBridge: getEventBridgeClient(),
    quarantine: getQuarantineRepository(),
    trackedTables: parseTrackedTablesConfig(ctx.optional(TRACKED_TABLES_ENV)),
    eventBusName: ctx.require(topology.bus.env),
  };
  let redriven = 0;
  const results: Record<string, unknown>[] = [];
  const keep: string[] = [];
  while (redriven + keep.length < limit) {
    const batch = await receiveBatch(sqs, url, 300);
    if (batch.length === 0) break;
    for (const raw of batch) {
      const message = toDlqMessage(raw);
      const failure = parseStreamBatchFailure(message.body);
      const handle = raw.ReceiptHandle ?? '';
      if (!failure) {
        results.push({ id: message.messageId, result: 'kept: not an on-failure record' });
        keep.push(handle);
        continue;
      }
      try {
        const outcome = await redrivePublisherFailure(failure, deps);
        const counts: Record<string, number> = {};
        for (const r of outcome.records) counts[r.status] = (counts[r.status] ?? 0) + 1;
        const text =
          Object.entries(counts)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ') || 'no records';
        if (outcome.complete) {
          await deleteMessages(sqs, url, [handle]);
          redriven += 1;
          results.push({ id: message.messageId, result: `redriven: ${text}`, records: outcome.records });
        } else {
          keep.push(handle);
          results.push({ id: message.messageId, result: `kept: ${text}`, records: outcome.records });
        }
      } catch (error) {
        if (!(error instanceof StreamRangeUnavailableError)) throw error;
        keep.push(handle);
        results.push({ id: message.messageId, result: `kept: ${error.message}` });
      }
      out.progress(`publisher DLQ: ${redriven} redriven, ${keep.length} kept`);
    }
  }
  await releaseMessages(sqs, url, keep);
  out.result({ kind: 'publisher', redriven, kept: keep.length, results });
  out.table(results, ['id', 'result']);
  out.line(`${redriven} batch(es) redriven, ${keep.length} kept in the DLQ`);
  return keep.length > 0 ? 1 : 0;
}

async function redriveQuarantine(
  ctx: OpsContext,
  id: string | undefined,
  rowFile: string | undefined,
  out: Output,
): Promise<number> {
  if (!id)
    throw new CliError('dlq redrive quarantine needs --id <quarantineId> (see dlq list quarantine)', 2);
  const repo = getQuarantineRepository();
  const item = await repo.get(id);
  if (!item) throw new CliError(`no quarantine entry ${id}`);
  if (rowFile) {
    // The operator fixed the row: overwrite it in the outbox, so the publisher publishes it (MODIFY).
    const text = await readFile(rowFile, 'utf8').catch(() => {
      throw new CliError(`cannot read ${rowFile}`);
    });
    let row: ReturnType<typeof validateOutboxRow>;
    try {
      row = validateOutboxRow(parseJson(text));
    } catch (error) {
      throw new CliError(
        `the fixed row in ${rowFile} is still invalid: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    await getDocumentClient().send(
      new PutCommand({ TableName: ctx.require(topology.tables.outbox.env), Item: row }),
    );
    await repo.delete(id);
    out.result({ kind: 'quarantine', id, result: 'appended', eventId: row.eventId });
    out.line(
      `Row ${row.eventId} written to the outbox; the publisher will publish it. Quarantine entry ${id} removed.`,
    );
    return 0;
  }
  if (item.source !== 'publisher') {
    throw new CliError(
      `entry ${id} came from the ${item.source} consumer (${item.reason}); only publisher entries can be re-published; pass --row with a fixed outbox row`,
    );
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
  out.result({ kind: 'quarantine', id, result: outcome });
  if (outcome?.status === 'published') {
    out.line(`Event ${outcome.eventId ?? ''} published; quarantine entry ${id} removed.`);
    return 0;
  }
  out.line(
    `Not published: ${outcome?.status ?? 'no result'}${outcome?.reason ? ` (${outcome.reason})` : ''}${outcome?.failure ? `: ${outcome.failure}` : ''}. Fix the row and pass it with --row <file>.`,
  );
  return 1;
}

async function redrive(
  ctx: OpsContext,
  kind: Kind,
  options: { id: string | undefined; endpoint: string | undefined; row: string | undefined; limit: number },
  out: Output,
): Promise<number> {
  if (kind === 'quarantine') return redriveQuarantine(ctx, options.id, options.row, out);
  if (kind === 'publisher') return redrivePublisher(ctx, options.limit, out);
  const sqs = getSqsClient();
  const dlqUrl = ctx.require(QUEUE_KINDS[kind].dlq);
  if (kind === 'webhook') {
    const progress = await redriveWebhookDlq(sqs, {
      dlqUrl,
      deliveryQueueUrl: ctx.require(topology.queues.webhookDeliveryQueue.env),
      limit: options.limit,
      ...(options.endpoint ? { endpointId: options.endpoint } : {}),
      onProgress: (p) => out.progress(`webhook DLQ: ${p.moved} moved`),
    });
    out.result({ kind, ...progress });
    out.line(
      `${progress.moved} delivery(ies) back on the delivery queue; ${progress.skipped} skipped, ${progress.unreadable} unreadable`,
    );
    return progress.unreadable > 0 ? 1 : 0;
  }
  const targetUrl = (message: DlqMessage): string | undefined => {
    if (kind !== 'bus') return ctx.require(QUEUE_KINDS[kind].source);
    // EventBridge names the target it failed to reach; map its ARN to our queue by name.
    const arn = message.attributes.TARGET_ARN?.StringValue ?? '';
    const name = arn.split(':').at(-1) ?? '';
    return Object.values(topology.queues)
      .map((q) => ctx.optional(q.env))
      .find((url) => url !== undefined && name !== '' && url.endsWith(`/${name}`));
  };
  if (kind === 'bus') {
    // Group by target: move each message to the queue it was meant for.
    const messages = await peekMessages(sqs, dlqUrl, options.limit);
    const targets = new Set(messages.map(targetUrl).filter((u): u is string => u !== undefined));
    let moved = 0;
    for (const target of targets) {
      const result = await moveMessages(sqs, dlqUrl, target, {
        max: options.limit,
        select: (m) => targetUrl(m) === target,
        onProgress: (n) => out.progress(`bus DLQ: ${moved + n} moved`),
      });
      moved += result.moved;
    }
    const left = messages.length - moved;
    out.result({ kind, moved, left });
    out.line(
      `${moved} event(s) back on their target queues${left > 0 ? `; ${left} with an unknown target left in the DLQ` : ''}`,
    );
    return left > 0 ? 1 : 0;
  }
  const result = await moveMessages(sqs, dlqUrl, ctx.require(QUEUE_KINDS[kind].source), {
    max: options.limit,
    ...(options.id ? { select: (m: DlqMessage) => m.messageId === options.id } : {}),
    onProgress: (n) => out.progress(`${kind} DLQ: ${n} moved`),
  });
  out.result({ kind, ...result });
  out.line(
    `${result.moved} message(s) back on the ${kind} queue${result.failed > 0 ? `; ${result.failed} could not be sent` : ''}`,
  );
  return result.failed > 0 ? 1 : 0;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    id: { type: 'string' },
    endpoint: { type: 'string' },
    row: { type: 'string' },
    limit: { type: 'string' },
  });
  const [action, kind, extra] = positionals;
  if (action !== 'list' && action !== 'show' && action !== 'redrive') {
    throw new CliError(`unknown or missing action "${action ?? ''}"\n${USAGE}`, 2);
  }
  if (!isKind(kind)) throw new CliError(`unknown or missing kind "${kind ?? ''}"\n${USAGE}`, 2);
  if (extra !== undefined) throw new CliError(`unexpected argument "${extra}"\n${USAGE}`, 2);
  const limit = positiveInt(values.limit, 'limit', action === 'redrive' ? 10_000 : 50, 10_000);
  const out = createOutput(values.json);
  const ctx = await openContext(values);
  if (action === 'list') return list(ctx, kind, limit, out);
  if (action === 'show') return show(ctx, kind, values.id, limit, out);
  return redrive(ctx, kind, { id: values.id, endpoint: values.endpoint, row: values.row, limit }, out);
}
