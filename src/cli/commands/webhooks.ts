/**
 * `outbox-relay webhooks …`: manage a tenant's webhook endpoints, redrive the webhook DLQ and show
 * an event's delivery history. Acts on the local runtime by default, or on `--stack <name>`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { getAuditRepository } from '../../aws/auditRepository.js';
import { getWebhookAdmin } from '../../aws/webhookAdmin.js';
import {
  getWebhookEndpointsRepository,
  type WebhookEndpointsRepository,
} from '../../aws/webhookEndpointsRepository.js';
import { type AddressPolicy, addressPolicyFromEnv, checkResolvedAddress } from '../../core/addressPolicy.js';
import type { Actor } from '../../core/webhookAdmin.js';
import {
  DEFAULT_ROTATION_GRACE_SECONDS,
  type EndpointSettings,
  maskSecret,
  WEBHOOK_CONTENT,
  type WebhookContent,
  type WebhookEndpoint,
} from '../../core/webhookEndpoint.js';
import {
  AddressRefusedError,
  WebhookConfigurationError,
  WebhookEndpointNotFoundError,
} from '../../core/webhookErrors.js';
import { CliError } from '../errors.js';
import { nameArg, outputFormat, parseCommandArgs, positiveInt, refuseInapplicable } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { onlyTenantOfEvent } from '../ops/eventTenant.js';
import { createOutput, type Output } from '../ops/output.js';
import { didYouMean } from '../suggest.js';
import { redriveWebhooks } from './dlq.js';

export const summary =
  'webhooks add|list|show|update|disable|enable|rotate-secret|remove|redrive|test|attempts';

export const usage = `Usage:
  outbox-relay webhooks add --tenant <id> --url <https://…> [--types a.b,c.*] [--channels x,y]
                            [--content full|summary] [--timeout <s>] [--max-attempts <n>] [--description <text>]
  outbox-relay webhooks list [--tenant <id>]
  outbox-relay webhooks show <endpointId> [--tenant <id>] [--reveal]
  outbox-relay webhooks update <endpointId> [--url …] [--types …] [--channels …] [--content …] [--timeout …] [--max-attempts …]
  outbox-relay webhooks disable <endpointId> [--reason <text>]
  outbox-relay webhooks enable <endpointId>
  outbox-relay webhooks rotate-secret <endpointId> [--grace <24h|90m|3600s|0>]
  outbox-relay webhooks remove <endpointId>
  outbox-relay webhooks redrive [--endpoint <endpointId>] [--limit <n>] [--dry-run]
  outbox-relay webhooks test <endpointId> [--timeout <s>]
  outbox-relay webhooks attempts <eventId> [--tenant <id>]
Every command takes --output table|json|jsonl (or --json), and --stack <name> [--region] [--profile]
to act on a deployed stack. Endpoint commands take --tenant <id> to skip the lookup by id.
redrive handles each DLQ message once per run and leaves (and reports) messages whose endpoint
is disabled, removed or unknown; "test" queues one signed test event (type webhook.test) and
waits for its attempt.`;

/** The options each subcommand takes (the global ones aside); anything else is refused. */
const SUBCOMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  add: ['tenant', 'url', 'types', 'channels', 'content', 'timeout', 'max-attempts', 'description'],
  list: ['tenant'],
  show: ['tenant', 'reveal'],
  update: ['tenant', 'url', 'types', 'channels', 'content', 'timeout', 'max-attempts', 'description'],
  disable: ['tenant', 'reason'],
  enable: ['tenant'],
  'rotate-secret': ['tenant', 'grace'],
  remove: ['tenant'],
  redrive: ['endpoint', 'limit', 'dry-run'],
  test: ['tenant', 'timeout'],
  attempts: ['tenant'],
};
export const SUBCOMMANDS = Object.keys(SUBCOMMAND_OPTIONS);

export const completion = {
  words: SUBCOMMANDS,
  options: [...new Set(Object.values(SUBCOMMAND_OPTIONS).flat())],
};

const OPTIONS = {
  tenant: { type: 'string' },
  url: { type: 'string' },
  types: { type: 'string' },
  channels: { type: 'string' },
  content: { type: 'string' },
  timeout: { type: 'string' },
  'max-attempts': { type: 'string' },
  description: { type: 'string' },
  reason: { type: 'string' },
  grace: { type: 'string' },
  endpoint: { type: 'string' },
  limit: { type: 'string' },
  reveal: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** Changes go through the same service as the tenant API, audited with the operator's name. */
function operator(): Actor {
  return { via: 'cli', subject: process.env.OUTBOX_RELAY_OPERATOR ?? process.env.USER ?? 'operator' };
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  nameArg('tenantId', values.tenant, '--tenant');
  const [sub, ...rest] = positionals;
  if (sub === undefined) throw new CliError(`missing subcommand; see "outbox-relay webhooks --help"`, 2);
  const allowed = SUBCOMMAND_OPTIONS[sub];
  if (allowed === undefined)
    throw new CliError(
      `unknown subcommand "${sub}"${didYouMean(sub, SUBCOMMANDS)}; see "outbox-relay webhooks --help"`,
      2,
    );
  refuseInapplicable(values, allowed, `webhooks ${sub}`);
  const out = createOutput(outputFormat(values));
  const context = await openContext(values);
  const policy = addressPolicyFromEnv(process.env);
  try {
    switch (sub) {
      case 'add':
        return await add(values, policy, out);
      case 'list':
        return await list(values, out);
      case 'show':
        return await show(one(rest, 'show'), values, out);
      case 'update':
        return await update(one(rest, 'update'), values, policy, out);
      case 'disable':
        return await setEnabled(one(rest, 'disable'), false, values, out);
      case 'enable':
        return await setEnabled(one(rest, 'enable'), true, values, out);
      case 'rotate-secret':
        return await rotate(one(rest, 'rotate-secret'), values, out);
      case 'remove':
        return await remove(one(rest, 'remove'), values, out);
      case 'redrive':
        if (rest.length > 0)
          throw new CliError(`webhooks redrive takes no arguments (use --endpoint <id>)`, 2);
        return await redriveWebhooks(
          context,
          {
            dryRun: values['dry-run'],
            endpoint: values.endpoint,
            limit: values.limit === undefined ? undefined : positiveInt(values.limit, 'limit', 1, 1_000_000),
            id: undefined,
          },
          out,
        );
      case 'test':
        return await sendTest(one(rest, 'test'), values, out);
      case 'attempts':
        return await attempts(nameArg('eventId', one(rest, 'attempts'), 'event id'), values.tenant, out);
      default:
        throw new CliError(`unknown subcommand "${sub}"; see "outbox-relay webhooks --help"`, 2);
    }
  } catch (error) {
    if (error instanceof WebhookConfigurationError) throw new CliError(`invalid ${error.message}`, 2);
    if (error instanceof WebhookEndpointNotFoundError) throw new CliError(error.message);
    throw error;
  }
}

function one(rest: readonly string[], sub: string): string {
  const [id, extra] = rest;
  if (id === undefined || extra !== undefined)
    throw new CliError(`webhooks ${sub} takes exactly one id; see "outbox-relay webhooks --help"`, 2);
  return id;
}

function csvList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function int(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new WebhookConfigurationError(field, `must be a whole number, got "${value}"`);
  return n;
}

function content(value: string | undefined): WebhookContent | undefined {
  if (value === undefined) return undefined;
  const found = WEBHOOK_CONTENT.find((c) => c === value);
  if (!found)
    throw new WebhookConfigurationError('content', `must be ${WEBHOOK_CONTENT.join(' or ')}, got "${value}"`);
  return found;
}

function settingsFrom(values: Values): Partial<EndpointSettings> {
  const settings: Partial<EndpointSettings> = {
    url: values.url,
    description: values.description,
    eventTypes: csvList(values.types),
    channels: csvList(values.channels),
    content: content(values.content),
    timeoutSeconds: int(values.timeout, 'timeoutSeconds'),
    maxAttempts: int(values['max-attempts'], 'maxAttempts'),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

/**
 * Registration-time DNS check: a name that already resolves to a refused address is refused now
 * (the connect-time check still guards against re-binding later). A name that does not resolve
 * yet is accepted with a warning.
 */
async function checkDns(url: string, policy: AddressPolicy, out: Output): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch (error) {
    out.progress(
      `warning: ${host} does not resolve yet (${error instanceof Error ? error.message : String(error)})`,
    );
    return;
  }
  try {
    for (const { address } of addresses) checkResolvedAddress(host, address, policy);
  } catch (error) {
    if (error instanceof AddressRefusedError) throw new WebhookConfigurationError('url', error.message);
    throw error;
  }
}

function row(endpoint: WebhookEndpoint, reveal = false): Record<string, unknown> {
  return {
    id: endpoint.id,
    tenant: endpoint.tenantId,
    url: endpoint.url,
    enabled: endpoint.enabled ? 'yes' : `no${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`,
    types: endpoint.eventTypes.length > 0 ? endpoint.eventTypes : '*',
    channels: endpoint.channels.length > 0 ? endpoint.channels : '*',
    content: endpoint.content,
    timeout: `${endpoint.timeoutSeconds}s`,
    attempts: endpoint.maxAttempts,
    streak: endpoint.failureStreak,
    secrets: endpoint.secrets.map((s) => (reveal ? s.secret : maskSecret(s.secret))),
  };
}

const COLUMNS = [
  'id',
  'tenant',
  'url',
  'enabled',
  'types',
  'channels',
  'content',
  'timeout',
  'attempts',
  'streak',
];

/** The endpoint as JSON output: secrets masked unless revealed. */
function publicView(endpoint: WebhookEndpoint, reveal: boolean): Record<string, unknown> {
  return {
    ...endpoint,
    secrets: endpoint.secrets.map((s) => ({ ...s, secret: reveal ? s.secret : maskSecret(s.secret) })),
  };
}

async function find(
  repo: WebhookEndpointsRepository,
  id: string,
  tenant: string | undefined,
): Promise<WebhookEndpoint> {
  const endpoint = tenant ? await repo.get(tenant, id) : await repo.findById(id);
  if (!endpoint) throw new CliError(`no webhook endpoint ${id}${tenant ? ` for tenant ${tenant}` : ''}`);
  return endpoint;
}

async function add(values: Values, policy: AddressPolicy, out: Output): Promise<number> {
  if (!values.tenant) throw new CliError('webhooks add needs --tenant <id>', 2);
  if (!values.url) throw new CliError('webhooks add needs --url <https://…>', 2);
  await checkDns(values.url, policy, out);
  const endpoint = await getWebhookAdmin().create(operator(), values.tenant, {
    ...settingsFrom(values),
    url: values.url,
  });
  out.result(publicView(endpoint, true));
  out.table([row(endpoint)], COLUMNS);
  out.line(
    `\nSigning secret (give it to the receiver; shown again only with "show --reveal"):\n  ${endpoint.secrets[0]?.secret}`,
  );
  return 0;
}

async function list(values: Values, out: Output): Promise<number> {
  const repo = getWebhookEndpointsRepository();
  const endpoints = values.tenant ? await repo.listByTenant(values.tenant) : await repo.listAll();
  endpoints.sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.createdAt.localeCompare(b.createdAt));
  const views = endpoints.map((e) => publicView(e, false));
  out.result(views, views);
  out.table(
    endpoints.map((e) => row(e)),
    COLUMNS,
  );
  return 0;
}

async function show(id: string, values: Values, out: Output): Promise<number> {
  const endpoint = await find(getWebhookEndpointsRepository(), id, values.tenant);
  out.result(publicView(endpoint, values.reveal));
  out.table([row(endpoint)], COLUMNS);
  out.line('');
  out.table(
    endpoint.secrets.map((s) => ({
      secret: values.reveal ? s.secret : maskSecret(s.secret),
      created: s.createdAt,
      expires: s.expiresAt ?? '',
    })),
    ['secret', 'created', 'expires'],
  );
  return 0;
}

async function update(id: string, values: Values, policy: AddressPolicy, out: Output): Promise<number> {
  const repo = getWebhookEndpointsRepository();
  const settings = settingsFrom(values);
  if (Object.keys(settings).length === 0)
    throw new CliError('webhooks update: nothing to change (pass --url, --types, …)', 2);
  const current = await find(repo, id, values.tenant);
  if (settings.url) await checkDns(settings.url, policy, out);
  const updated = await getWebhookAdmin().update(operator(), current.tenantId, current.id, settings);
  out.result(publicView(updated, false));
  out.table([row(updated)], COLUMNS);
  return 0;
}

async function setEnabled(id: string, enabled: boolean, values: Values, out: Output): Promise<number> {
  const repo = getWebhookEndpointsRepository();
  const endpoint = await find(repo, id, values.tenant);
  const after = await getWebhookAdmin().setEnabled(
    operator(),
    endpoint.tenantId,
    endpoint.id,
    enabled,
    enabled ? undefined : (values.reason ?? 'disabled by an operator'),
  );
  out.result(publicView(after, false));
  out.line(`${after.id} ${enabled ? 'enabled' : 'disabled'}`);
  if (enabled)
    out.line(
      `Messages parked while it was disabled are in the webhook DLQ: "outbox-relay webhooks redrive --endpoint ${after.id}".`,
    );
  return 0;
}

/** `24h`, `90m`, `3600s`, `3600` or `0`. */
export function parseGrace(value: string | undefined): number {
  if (value === undefined) return DEFAULT_ROTATION_GRACE_SECONDS;
  const match = /^(\d+)(s|m|h|d)?$/.exec(value.trim());
  if (!match)
    throw new WebhookConfigurationError(
      'grace',
      `must be a duration like 24h, 90m, 3600s or 0; got "${value}"`,
    );
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] ?? 's'] ?? 1;
  return Number(match[1]) * unit;
}

async function rotate(id: string, values: Values, out: Output): Promise<number> {
  const endpoint = await find(getWebhookEndpointsRepository(), id, values.tenant);
  const rotated = await getWebhookAdmin().rotateSecret(
    operator(),
    endpoint.tenantId,
    endpoint.id,
    parseGrace(values.grace),
  );
  const [fresh, ...previous] = rotated.secrets;
  out.result(publicView(rotated, true));
  out.line(`New signing secret for ${rotated.id}:\n  ${fresh?.secret}`);
  for (const old of previous)
    out.line(`Previous secret ${maskSecret(old.secret)} keeps signing until ${old.expiresAt}.`);
  if (previous.length > 0)
    out.line('Until then each request carries both signatures (space-separated in webhook-signature).');
  return 0;
}

async function remove(id: string, values: Values, out: Output): Promise<number> {
  const repo = getWebhookEndpointsRepository();
  const endpoint = await find(repo, id, values.tenant);
  await getWebhookAdmin().remove(operator(), endpoint.tenantId, endpoint.id);
  out.result({ removed: endpoint.id, tenantId: endpoint.tenantId });
  out.line(`${endpoint.id} removed; deliveries still queued for it will be parked in the webhook DLQ.`);
  return 0;
}

/**
 * One signed test event through the shared webhook service: it goes onto the delivery queue and is
 * signed, attempted and audited like any delivery. The CLI then waits (up to --timeout) for the
 * first attempt in the audit and reports its outcome.
 */
async function sendTest(id: string, values: Values, out: Output): Promise<number> {
  const endpoint = await find(getWebhookEndpointsRepository(), id, values.tenant);
  const admin = getWebhookAdmin();
  const { eventId } = await admin.sendTest(operator(), endpoint.tenantId, endpoint.id);
  const timeoutSeconds = positiveInt(values.timeout, 'timeout', 30, 3_600);
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    // The audit keeps attempts under the event id even though a test event has no event record.
    const { attempts: all } = await getAuditRepository().getEventWithAttempts(endpoint.tenantId, eventId);
    const attempt = all.find((a) => a.path === 'webhook' && a.target === endpoint.id);
    if (attempt || Date.now() > deadline) {
      const ok = attempt?.outcome === 'delivered';
      out.result({
        endpoint: endpoint.id,
        tenant: endpoint.tenantId,
        url: endpoint.url,
        eventId,
        ok,
        outcome: attempt?.outcome ?? null,
        status: attempt?.statusCode ?? null,
        error: attempt?.error ?? null,
        durationMs: attempt ? Math.round(attempt.durationMs) : null,
        enabled: endpoint.enabled,
      });
      out.line(
        attempt
          ? `Test event ${eventId} to ${endpoint.url}: ${attempt.outcome}${attempt.statusCode ? ` (HTTP ${attempt.statusCode})` : ''}${attempt.error ? `: ${attempt.error}` : ''}, ${Math.round(attempt.durationMs)} ms`
          : `Test event ${eventId} queued, but no attempt was recorded within ${timeoutSeconds} s; follow it with "webhooks attempts ${eventId} --tenant ${endpoint.tenantId}"`,
      );
      if (!endpoint.enabled)
        out.line(
          `Note: ${endpoint.id} is disabled; real events are not sent to it until "webhooks enable ${endpoint.id}".`,
        );
      return ok ? 0 : 1;
    }
    out.progress(`waiting for the attempt of test event ${eventId}…`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function attempts(eventId: string, tenant: string | undefined, out: Output): Promise<number> {
  const audit = getAuditRepository();
  const tenantId = tenant ?? (await onlyTenantOfEvent(audit, eventId));
  const { event, attempts: all } = await audit.getEventWithAttempts(tenantId, eventId);
  const webhook = all.filter((a) => a.path === 'webhook');
  if (!event && webhook.length === 0)
    throw new CliError(`the audit has no event ${eventId} and no webhook attempts for it`);
  out.result({ event: event ?? null, attempts: webhook });
  if (event)
    out.line(
      `${eventId}: ${event.envelope.type} on ${event.envelope.tenantId}/${event.envelope.channel} at ${event.envelope.time}`,
    );
  else out.line(`${eventId}: no event record (yet), but webhook attempts exist`);
  out.table(
    webhook.map((a) => ({
      at: a.at,
      endpoint: a.target,
      attempt: a.attempt,
      outcome: a.outcome,
      status: a.statusCode ?? '',
      ms: Math.round(a.durationMs),
      detail: [a.error, a.nextAttemptAt ? `next ${a.nextAttemptAt}` : undefined].filter(Boolean).join('; '),
    })),
    ['at', 'endpoint', 'attempt', 'outcome', 'status', 'ms', 'detail'],
  );
  return 0;
}
