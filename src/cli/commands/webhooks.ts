/**
 * `outbox-relay webhooks …`: manage a tenant's webhook endpoints, redrive the webhook DLQ and show
 * an event's delivery history. Acts on the local runtime by default, or on `--stack <name>`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { getAuditRepository } from '../../aws/auditRepository.js';
import { getSqsClient } from '../../aws/clients.js';
import { getWebhookAdmin } from '../../aws/webhookAdmin.js';
import {
  getWebhookEndpointsRepository,
  type WebhookEndpointsRepository,
} from '../../aws/webhookEndpointsRepository.js';
import { redriveWebhookDlq } from '../../aws/webhookQueues.js';
import { topology } from '../../contract/topology.js';
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
import { nameArg, parseCommandArgs } from '../ops/args.js';
import { openContext } from '../ops/context.js';
import { onlyTenantOfEvent } from '../ops/eventTenant.js';
import { createOutput, type Output } from '../ops/output.js';

export const summary = 'webhooks add|list|show|update|disable|enable|rotate-secret|remove|redrive|attempts';

const USAGE = `Usage:
  outbox-relay webhooks add --tenant <id> --url <https://…> [--types a.b,c.*] [--channels x,y]
                            [--content full|summary] [--timeout <s>] [--max-attempts <n>] [--description <text>]
  outbox-relay webhooks list [--tenant <id>]
  outbox-relay webhooks show <endpointId> [--tenant <id>] [--reveal]
  outbox-relay webhooks update <endpointId> [--url …] [--types …] [--channels …] [--content …] [--timeout …] [--max-attempts …]
  outbox-relay webhooks disable <endpointId> [--reason <text>]
  outbox-relay webhooks enable <endpointId>
  outbox-relay webhooks rotate-secret <endpointId> [--grace <24h|90m|3600s|0>]
  outbox-relay webhooks remove <endpointId>
  outbox-relay webhooks redrive [--endpoint <endpointId>] [--limit <n>]
  outbox-relay webhooks attempts <eventId> [--tenant <id>]
Every command takes --json, and --stack <name> [--region] [--profile] to act on a deployed stack.
Endpoint commands take --tenant <id> to skip the lookup by id.`;

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
  help: { type: 'boolean', short: 'h', default: false },
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
  if (values.help || sub === undefined) {
    console.log(USAGE);
    return sub === undefined && !values.help ? 2 : 0;
  }
  const out = createOutput(values.json);
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
        return await redrive(
          values,
          out,
          context.require(topology.queues.webhookDlq.env),
          context.require(topology.queues.webhookDeliveryQueue.env),
        );
      case 'attempts':
        return await attempts(nameArg('eventId', one(rest, 'attempts'), 'event id'), values.tenant, out);
      default:
        throw new CliError(`unknown subcommand "${sub}"\n\n${USAGE}`, 2);
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
    throw new CliError(`webhooks ${sub} takes exactly one id\n\n${USAGE}`, 2);
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
  out.result(endpoints.map((e) => publicView(e, false)));
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

async function redrive(
  values: Values,
  out: Output,
  dlqUrl: string,
  deliveryQueueUrl: string,
): Promise<number> {
  const limit = int(values.limit, 'limit');
  if (limit !== undefined && limit < 1) throw new CliError('--limit must be at least 1', 2);
  if (values.endpoint) {
    const endpoint = await getWebhookEndpointsRepository().findById(values.endpoint);
    if (!endpoint)
      out.progress(`warning: endpoint ${values.endpoint} does not exist; its messages will be parked again`);
    else if (!endpoint.enabled) {
      out.progress(
        `warning: endpoint ${endpoint.id} is disabled; run "webhooks enable ${endpoint.id}" first or the messages return to the DLQ`,
      );
    }
  }
  const progress = await redriveWebhookDlq(getSqsClient(), {
    dlqUrl,
    deliveryQueueUrl,
    ...(values.endpoint ? { endpointId: values.endpoint } : {}),
    ...(limit !== undefined ? { limit } : {}),
    onProgress: (p) =>
      out.progress(
        `redrive: ${p.moved} moved, ${p.skipped} skipped (other endpoints), ${p.unreadable} unreadable`,
      ),
  });
  out.result(progress);
  out.line(
    `Moved ${progress.moved} message${progress.moved === 1 ? '' : 's'} back to the delivery queue (attempt count reset).`,
  );
  if (progress.skipped > 0) out.line(`${progress.skipped} left in the DLQ for other endpoints.`);
  if (progress.unreadable > 0)
    out.line(
      `${progress.unreadable} left in the DLQ: not delivery messages (inspect with "outbox-relay dlq").`,
    );
  return 0;
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
