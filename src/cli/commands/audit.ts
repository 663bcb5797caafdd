/**
 * `outbox-relay audit event <id> | resource <tenant> <resourceId> | channel <tenant> <channel> |
 * subject <sub> --tenant <t> | notes <tenant>`: what the audit log knows about an event, every
 * attempt to deliver it and every subject it reached, a resource's or channel's history in
 * position order, what one subject (agent) was sent and acknowledged — "did the server tell agent
 * X about operation Y, and did it get it?" — and a tenant's operator notes.
 */
import { type AuditRepository, getAuditRepository, MAX_SUBJECT_RECORDS } from '../../aws/auditRepository.js';
import type { AuditAttemptItem, AuditEventItem, AuditSubjectItem } from '../../core/auditRecord.js';
import { normaliseTime } from '../../core/envelope.js';
import { foldSubjectRecords, isMissing, type SubjectEventHistory } from '../../core/subjectHistory.js';
import { CliError } from '../errors.js';
import {
  nameArg,
  outputFormat,
  parseCommandArgs,
  positiveInt,
  refuseInapplicable,
  timeOption,
} from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { decodeCursor, encodeCursor } from '../ops/cursor.js';
import { tenantOfEvent } from '../ops/eventTenant.js';
import { createOutput, type Output } from '../ops/output.js';
import { findQuarantined } from '../ops/quarantineLookup.js';
import { didYouMean } from '../suggest.js';
import { quarantineView } from './dlq.js';

export const summary =
  'audit event <id> [--tenant] | resource <tenant> <resourceId> | channel <tenant> <channel> | subject <sub> --tenant <t> | notes <tenant>';

export const usage = `Usage:
  outbox-relay audit event <eventId> [--tenant <tenantId>]
  outbox-relay audit resource <tenantId> <resourceId> [--since <time>] [--limit <n>] [--cursor <c>]
  outbox-relay audit channel <tenantId> <channel> [--since <time>] [--limit <n>] [--cursor <c>]
  outbox-relay audit subject <subject> --tenant <tenantId> [--since <time>] [--type <type>] [--missing] [--limit <n>]
  outbox-relay audit notes <tenantId> [--limit <n>]
--since takes an ISO-8601 time or a duration (15m, 2h, 1d); --limit defaults to 50 (max 1000).
A page that has more after it ends with nextCursor (JSON) or a "--cursor …" line: pass it back with
--cursor to get the next page (no row repeats, even when many events share a millisecond).
Notes record who disabled an endpoint or discarded a DLQ message, and why.
"audit subject" lists the events a subject (the token's sub) was sent, live or replayed, and when it
acknowledged them; --missing keeps those sent but never acknowledged (receipts: docs/audit.md).
Its --limit counts records (default 10000, the maximum).
Event ids are unique per tenant: without --tenant, "audit event" scans the audit table for the id.`;

export const completion = {
  words: ['event', 'resource', 'channel', 'subject', 'notes'],
  options: ['since', 'limit', 'cursor', 'tenant', 'type', 'missing'],
};

const SUB_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  event: ['tenant'],
  resource: ['since', 'limit', 'cursor'],
  channel: ['since', 'limit', 'cursor'],
  subject: ['tenant', 'since', 'type', 'missing', 'limit'],
  notes: ['limit'],
};

function attemptRow(attempt: AuditAttemptItem): Record<string, unknown> {
  return {
    at: attempt.at,
    path: attempt.path,
    target: attempt.target,
    subject: attempt.subject ?? '',
    attempt: attempt.attempt,
    outcome: attempt.outcome,
    status: attempt.statusCode ?? '',
    ms: Math.round(attempt.durationMs),
    detail: attempt.error ?? (attempt.nextAttemptAt ? `next ${attempt.nextAttemptAt}` : ''),
  };
}

const ATTEMPT_COLUMNS = ['at', 'path', 'target', 'subject', 'attempt', 'outcome', 'status', 'ms', 'detail'];

/** Counts of attempt outcomes per path, e.g. `websocket: 3 delivered, 1 gone`. */
export function summariseAttempts(
  attempts: readonly Pick<AuditAttemptItem, 'path' | 'outcome'>[],
): Record<string, Record<string, number>> {
  const byPath: Record<string, Record<string, number>> = {};
  for (const attempt of attempts) {
    const outcomes = byPath[attempt.path] ?? {};
    byPath[attempt.path] = outcomes;
    outcomes[attempt.outcome] = (outcomes[attempt.outcome] ?? 0) + 1;
  }
  return byPath;
}

function summaryText(attempts: readonly AuditAttemptItem[]): string {
  const parts = Object.entries(summariseAttempts(attempts)).map(
    ([path, outcomes]) =>
      `${path}: ${Object.entries(outcomes)
        .map(([outcome, n]) => `${n} ${outcome}`)
        .join(', ')}`,
  );
  return parts.length > 0 ? parts.join('; ') : 'no delivery attempts';
}

async function showEvent(
  repo: AuditRepository,
  eventId: string,
  tenant: string | undefined,
  out: Output,
): Promise<number> {
  const tenantId = tenant ?? (await tenantOfEvent(repo, eventId));
  const { event, attempts, subjects } =
    tenantId === undefined
      ? { event: undefined, attempts: [], subjects: [] }
      : await repo.getEventWithAttempts(tenantId, eventId);
  if (!event) {
    const quarantined = await findQuarantined(eventId);
    out.result({
      eventId,
      audited: false,
      attempts: attempts.map(attemptView),
      quarantined: quarantined.map((q) => quarantineView(q)),
    });
    if (quarantined.length > 0) {
      out.line(`Event ${eventId} was never published: it is in quarantine.`);
      out.table(
        quarantined.map((q) => ({
          quarantinedAt: q.quarantinedAt,
          reason: q.reason,
          message: q.message,
          id: q.sk,
        })),
        ['quarantinedAt', 'reason', 'message', 'id'],
      );
      out.line('Fix the row and put it back with: outbox-relay dlq redrive quarantine --id <id>');
      return 1;
    }
    throw new CliError(
      `no audit record of event ${eventId} (not yet published, quarantined under another id, or unknown); see outbox-relay dlq list quarantine`,
    );
  }
  out.result({
    eventId,
    audited: true,
    event: eventView(event),
    attempts: attempts.map(attemptView),
    summary: summariseAttempts(attempts),
    subjects: subjectsOfEvent(subjects),
  });
  const e = event.envelope;
  out.line(`Event ${e.id}`);
  out.table(
    [
      { field: 'tenant', value: e.tenantId },
      { field: 'channel', value: e.channel },
      { field: 'type', value: e.type },
      { field: 'resource', value: e.resourceId ?? '' },
      { field: 'time', value: e.time },
      { field: 'recorded', value: event.recordedAt },
      { field: 'position', value: e.position },
      { field: 'attempts', value: summaryText(attempts) },
    ],
    ['field', 'value'],
  );
  if (attempts.length > 0) {
    out.line('');
    out.table([...attempts].sort((a, b) => a.at.localeCompare(b.at)).map(attemptRow), ATTEMPT_COLUMNS);
  }
  if (subjects.length > 0) {
    out.line('');
    out.table(
      [...subjects]
        .sort((a, b) => a.subject.localeCompare(b.subject) || a.at.localeCompare(b.at))
        .map((s) => ({ subject: s.subject, outcome: s.outcome, at: s.at, connection: s.connectionId })),
      ['subject', 'outcome', 'at', 'connection'],
    );
  }
  return 0;
}

/** Per subject: each outcome's records (time and connection), in time order. */
function subjectsOfEvent(
  items: readonly AuditSubjectItem[],
): Record<string, { outcome: string; at: string; connectionId: string }[]> {
  const out: Record<string, { outcome: string; at: string; connectionId: string }[]> = {};
  for (const item of [...items].sort((a, b) => a.at.localeCompare(b.at))) {
    const list = out[item.subject] ?? [];
    out[item.subject] = list;
    list.push({ outcome: item.outcome, at: item.at, connectionId: item.connectionId });
  }
  return out;
}

async function showSubject(
  repo: AuditRepository,
  tenantId: string,
  subject: string,
  options: { since: Date | undefined; type: string | undefined; missing: boolean; limit: number },
  out: Output,
): Promise<number> {
  const page = await repo.querySubject(tenantId, subject, {
    limit: options.limit,
    ...(options.since ? { since: options.since } : {}),
  });
  const histories = foldSubjectRecords(page.items).filter(
    (h) => (options.type === undefined || h.type === options.type) && (!options.missing || isMissing(h)),
  );
  const events = histories.map(historyView);
  out.result({ tenantId, subject, missing: options.missing, events, more: page.more }, events);
  if (page.more)
    out.line(
      `(only the first ${options.limit} records were read: narrow with --since; --limit allows up to ${MAX_SUBJECT_RECORDS})`,
    );
  if (histories.length === 0) {
    out.line(
      `No ${options.missing ? 'unacknowledged ' : ''}events recorded for subject ${subject} of tenant ${tenantId}${options.since ? ` since ${options.since.toISOString()}` : ''}.`,
    );
    return 0;
  }
  out.table(
    histories.map((h) => ({
      id: h.eventId,
      channel: h.channel,
      type: h.type ?? '',
      delivered: h.first.delivered ?? '',
      replayed: h.first.replayed ?? '',
      received: h.first.received ?? '',
      other: (['gone', 'failed', 'refresh'] as const).filter((o) => h.first[o] !== undefined).join(','),
    })),
    ['id', 'channel', 'type', 'delivered', 'replayed', 'received', 'other'],
  );
  return 0;
}

function historyView(h: SubjectEventHistory): Record<string, unknown> {
  return { eventId: h.eventId, channel: h.channel, type: h.type, ...h.first, connections: h.connections };
}

async function showHistory(
  repo: AuditRepository,
  kind: 'resource' | 'channel',
  tenantId: string,
  key: string,
  options: { since: Date | undefined; limit: number; cursor: string | undefined },
  out: Output,
): Promise<number> {
  // Positions are `<time>#<id>`: every position at or after `since` sorts after its bare time.
  const after = options.cursor
    ? decodeCursor(options.cursor)
    : options.since
      ? normaliseTime(options.since.toISOString())
      : undefined;
  const query = {
    limit: options.limit,
    ascending: true,
    ...(after !== undefined ? { afterPosition: after } : {}),
  };
  const page =
    kind === 'resource'
      ? await repo.queryResource(tenantId, key, query)
      : await repo.queryChannel(tenantId, key, query);
  const rows = await Promise.all(
    page.items.map(async (item: AuditEventItem) => {
      const { attempts } = await repo.getEventWithAttempts(tenantId, item.eventId);
      return { item, attempts };
    }),
  );
  const nextCursor = page.nextPosition ? encodeCursor(page.nextPosition) : undefined;
  const events = rows.map(({ item, attempts }) => ({
    event: eventView(item),
    attempts: attempts.map(attemptView),
    summary: summariseAttempts(attempts),
  }));
  out.result({ tenantId, [kind]: key, events, nextCursor: nextCursor ?? null }, events);
  if (rows.length === 0) {
    out.line(
      `No events for tenant ${tenantId}, ${kind} ${key}${options.since ? ` since ${options.since.toISOString()}` : ''}.`,
    );
    return 0;
  }
  out.table(
    rows.map(({ item, attempts }) => ({
      time: item.envelope.time,
      id: item.eventId,
      type: item.envelope.type,
      ...(kind === 'channel'
        ? { resource: item.envelope.resourceId ?? '' }
        : { channel: item.envelope.channel }),
      recorded: item.recordedAt,
      deliveries: summaryText(attempts),
    })),
    ['time', 'id', 'type', kind === 'channel' ? 'resource' : 'channel', 'recorded', 'deliveries'],
  );
  if (nextCursor) out.line(`(more: --cursor ${nextCursor})`);
  else if (out.format === 'jsonl') return 0;
  return 0;
}

/** An audit event as the CLI shows it: no table keys. */
function eventView(item: AuditEventItem): Record<string, unknown> {
  return {
    eventId: item.eventId,
    position: item.position,
    recordedAt: item.recordedAt,
    envelope: item.envelope,
  };
}

/** A delivery attempt as the CLI shows it: no table keys. */
function attemptView(attempt: AuditAttemptItem): Record<string, unknown> {
  const { pk: _pk, sk: _sk, kind: _kind, ...rest } = attempt;
  return rest;
}

async function showNotes(
  repo: AuditRepository,
  tenantId: string,
  limit: number,
  out: Output,
): Promise<number> {
  const notes = (await repo.listTenantNotes(tenantId, { limit })).map((note) => ({
    at: note.at,
    code: note.code,
    message: note.message,
    details: note.details ?? {},
  }));
  out.result({ tenantId, count: notes.length, notes }, notes);
  out.table(notes, ['at', 'code', 'message']);
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    since: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    tenant: { type: 'string' },
    type: { type: 'string' },
    missing: { type: 'boolean' },
  });
  const [sub, first, second] = positionals;
  const needs = (count: number) => {
    if (positionals.length !== count + 1)
      throw new CliError(`audit ${sub} takes ${count} argument(s); see "outbox-relay audit --help"`, 2);
  };
  const allowed = SUB_OPTIONS[sub ?? ''];
  if (allowed === undefined)
    throw new CliError(
      `unknown or missing subcommand "${sub ?? ''}"${didYouMean(sub ?? '', Object.keys(SUB_OPTIONS))}; see "outbox-relay audit --help"`,
      2,
    );
  needs(sub === 'resource' || sub === 'channel' ? 2 : 1);
  refuseInapplicable(values, allowed, `audit ${sub}`);
  if (values.cursor !== undefined && values.since !== undefined)
    throw new CliError('pass --cursor or --since, not both (the cursor already says where to continue)', 2);
  if (values.cursor !== undefined) decodeCursor(values.cursor);
  const out = createOutput(outputFormat(values));

  // Names are checked before any lookup: a bad one is a usage error, not "no events".
  if (sub === 'event') {
    nameArg('eventId', first ?? '', 'event id');
    nameArg('tenantId', values.tenant, '--tenant');
  } else if (sub === 'subject') {
    nameArg('subject', first ?? '', 'subject');
    if (values.tenant === undefined) throw new CliError('audit subject needs --tenant <tenantId>', 2);
    nameArg('tenantId', values.tenant, '--tenant');
  } else {
    nameArg('tenantId', first ?? '', 'tenant id');
    if (sub === 'channel') nameArg('channel', second ?? '', 'channel');
  }

  await openContext(values);
  const repo = getAuditRepository();
  if (sub === 'event') return showEvent(repo, first ?? '', values.tenant, out);
  if (sub === 'subject')
    return showSubject(
      repo,
      values.tenant ?? '',
      first ?? '',
      {
        since: timeOption(values.since, 'since'),
        type: values.type,
        missing: values.missing === true,
        limit: positiveInt(values.limit, 'limit', MAX_SUBJECT_RECORDS, MAX_SUBJECT_RECORDS),
      },
      out,
    );
  if (sub === 'notes') return showNotes(repo, first ?? '', positiveInt(values.limit, 'limit', 50, 1000), out);
  return showHistory(
    repo,
    sub === 'resource' ? 'resource' : 'channel',
    first ?? '',
    second ?? '',
    {
      since: timeOption(values.since, 'since'),
      limit: positiveInt(values.limit, 'limit', 50, 1000),
      cursor: values.cursor,
    },
    out,
  );
}
