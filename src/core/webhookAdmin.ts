/**
 * The rules behind the tenant API and the operator CLI (one service, src/aws/webhookAdmin.ts,
 * runs them for both): who is acting, what a tenant may see of an endpoint, which events a
 * `recover` re-sends, what a test event looks like, and the audit note of every operation. Pure.
 */
import { randomBytes } from 'node:crypto';
import type {
  AuditAttemptItem,
  AuditEndpointAttemptItem,
  AuditEventItem,
  TenantNote,
} from './auditRecord.js';
import { ENVELOPE_VERSION, type Envelope, EVENT_SOURCE, positionOf } from './envelope.js';
import {
  type EndpointSettingsInput,
  type EndpointSettingsPatch,
  maskSecret,
  type WebhookEndpoint,
} from './webhookEndpoint.js';
import { endpointWantsEvent } from './webhookFilter.js';
import type { DeliveryMessage } from './webhookMessages.js';

/** Who did it: a tenant's token (subject) through the API, or an operator through the CLI. */
export interface Actor {
  readonly via: 'api' | 'cli';
  readonly subject: string;
}

export const WEBHOOK_OPERATIONS = [
  'endpoint.create',
  'endpoint.update',
  'endpoint.enable',
  'endpoint.disable',
  'endpoint.delete',
  'endpoint.rotate_secret',
  'endpoint.recover',
  'endpoint.resend',
  'endpoint.test',
] as const;
export type WebhookOperation = (typeof WEBHOOK_OPERATIONS)[number];

export const WEBHOOK_OPERATION_NOTE = 'webhook_operation';

/** The audit note of one operation (a tenant note: `outbox-relay audit` and the tables show it). */
export function operationNote(
  operation: WebhookOperation,
  actor: Actor,
  endpointId: string,
  details: Record<string, unknown> = {},
): TenantNote {
  return {
    code: WEBHOOK_OPERATION_NOTE,
    message: `${operation} on ${endpointId} by ${actor.subject} (${actor.via})`,
    details: { operation, endpointId, actor: actor.subject, via: actor.via, ...details },
  };
}

/** An endpoint as a tenant sees it: everything but the secrets, which are masked unless revealed. */
export function endpointView(endpoint: WebhookEndpoint, reveal = false): Record<string, unknown> {
  return {
    ...endpoint,
    secrets: endpoint.secrets.map((s) => ({ ...s, secret: reveal ? s.secret : maskSecret(s.secret) })),
  };
}

/** Channel and type of the test event (the type is `webhook.test`, so filters can opt in or out). */
export const TEST_EVENT_TYPE = 'webhook.test';
export const TEST_EVENT_CHANNEL = 'webhooks';

export function testEnvelope(tenantId: string, endpointId: string, now: Date): Envelope {
  const id = `test_${now.getTime().toString(36)}_${randomBytes(6).toString('hex')}`;
  const time = now.toISOString();
  return {
    version: ENVELOPE_VERSION,
    id,
    source: EVENT_SOURCE,
    tenantId,
    channel: TEST_EVENT_CHANNEL,
    type: TEST_EVENT_TYPE,
    resourceId: endpointId,
    time,
    position: positionOf(time, id),
    data: { test: true, endpointId },
  };
}

/** A fresh delivery (attempt 1) of an event to one endpoint. */
export function deliveryOf(envelope: Envelope, endpoint: Pick<WebhookEndpoint, 'id'>): DeliveryMessage {
  return { eventId: envelope.id, endpointId: endpoint.id, tenantId: envelope.tenantId, attempt: 1, envelope };
}

/** Whether the audit shows this endpoint received the event (a 2xx on some attempt). */
export function wasDelivered(attempts: readonly AuditAttemptItem[], endpointId: string): boolean {
  return attempts.some((a) => a.path === 'webhook' && a.target === endpointId && a.outcome === 'delivered');
}

/**
 * What `recover` re-sends: the tenant's events since `since` that the endpoint's filters select
 * and that it has no delivered attempt of. Events of other tenants are never selected.
 */
export function eventsToRecover(
  endpoint: WebhookEndpoint,
  events: readonly { envelope: Envelope; attempts: readonly AuditAttemptItem[] }[],
  since: Date,
): Envelope[] {
  return events
    .filter(
      ({ envelope, attempts }) =>
        envelope.tenantId === endpoint.tenantId &&
        Date.parse(envelope.time) >= since.getTime() &&
        endpointWantsEvent(endpoint, envelope) &&
        !wasDelivered(attempts, endpoint.id),
    )
    .map(({ envelope }) => envelope)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
}

/** Most events one `recover` call reads; more → `truncated`, call again with a later `since`. */
export const MAX_RECOVER_EVENTS = 5_000;

/** The operations, as the tenant API and the CLI call them (implemented in src/aws/webhookAdmin.ts). */
export interface RecoverResult {
  /** Events re-enqueued for the endpoint. */
  readonly enqueued: number;
  readonly eventIds: readonly string[];
  /** Events read from the audit (all channels of the tenant since the time). */
  readonly scanned: number;
  /** More than `MAX_RECOVER_EVENTS` events since the time: call again from the last one's time. */
  readonly truncated: boolean;
}

export interface WebhookAdmin {
  list(tenantId: string): Promise<WebhookEndpoint[]>;
  get(tenantId: string, endpointId: string): Promise<WebhookEndpoint>;
  create(actor: Actor, tenantId: string, input: EndpointSettingsInput): Promise<WebhookEndpoint>;
  update(
    actor: Actor,
    tenantId: string,
    endpointId: string,
    patch: EndpointSettingsPatch,
  ): Promise<WebhookEndpoint>;
  setEnabled(
    actor: Actor,
    tenantId: string,
    endpointId: string,
    enabled: boolean,
    reason?: string,
  ): Promise<WebhookEndpoint>;
  remove(actor: Actor, tenantId: string, endpointId: string): Promise<void>;
  rotateSecret(
    actor: Actor,
    tenantId: string,
    endpointId: string,
    graceSeconds?: number,
  ): Promise<WebhookEndpoint>;
  /** An event's webhook attempts; the event must be the tenant's. */
  eventAttempts(
    tenantId: string,
    eventId: string,
  ): Promise<{ event: AuditEventItem | undefined; attempts: AuditAttemptItem[] }>;
  endpointAttempts(
    tenantId: string,
    endpointId: string,
    limit?: number,
  ): Promise<readonly AuditEndpointAttemptItem[]>;
  recover(actor: Actor, tenantId: string, endpointId: string, since: Date): Promise<RecoverResult>;
  resend(actor: Actor, tenantId: string, endpointId: string, eventId: string): Promise<{ eventId: string }>;
  sendTest(actor: Actor, tenantId: string, endpointId: string): Promise<{ eventId: string }>;
  eventTypes(tenantId: string): Promise<{ name: string; firstSeenAt: string }[]>;
}
