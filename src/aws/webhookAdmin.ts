/**
 * The webhook operations, one service for the tenant API (lambdas/webhook-api) and the operator
 * CLI (`outbox-relay webhooks`): endpoints, secrets, attempts, recover, resend, test event and
 * the event-type catalogue, each scoped to one tenant and each change audited with who did it
 * (a tenant note, code `webhook_operation`). The rules are pure (src/core/webhookAdmin.ts); this
 * module adds the tables and the queue.
 *
 * ```ts
 * const admin = getWebhookAdmin();
 * const actor = { via: 'api', subject: identity.subject } as const;
 * const { endpoint } = await admin.create(actor, identity.tenantId, { url: 'https://…' });
 * await admin.recover(actor, identity.tenantId, endpoint.id, new Date(Date.now() - 3600_000));
 * ```
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { topology } from '../contract/topology.js';
import { type AddressPolicy, addressPolicyFromEnv, checkResolvedAddress } from '../core/addressPolicy.js';
import type { AuditEventItem } from '../core/auditRecord.js';
import type { Envelope } from '../core/envelope.js';
import { parseRetrySchedule, RETRY_SCHEDULE_ENV } from '../core/retrySchedule.js';
import {
  type Actor,
  deliveryOf,
  eventsToRecover,
  MAX_RECOVER_EVENTS,
  operationNote,
  testEnvelope,
  type WebhookAdmin,
  type WebhookOperation,
} from '../core/webhookAdmin.js';
import {
  createEndpoint,
  DEFAULT_ROTATION_GRACE_SECONDS,
  rotateSecret,
  updateEndpoint,
} from '../core/webhookEndpoint.js';
import {
  AddressRefusedError,
  WebhookConfigurationError,
  WebhookEndpointNotFoundError,
  WebhookEventNotFoundError,
} from '../core/webhookErrors.js';
import type { DeliveryMessage } from '../core/webhookMessages.js';
import { type AuditCoreRepository, getAuditCoreRepository } from './auditCoreRepository.js';
import { requireEnv } from './env.js';
import { getSqsSender } from './sdk/sqs.js';
import {
  getWebhookEndpointsRepository,
  type WebhookEndpointsRepository,
} from './webhookEndpointsRepository.js';
import { sendDeliveries } from './webhookQueues.js';

export interface WebhookAdminDeps {
  readonly endpoints: WebhookEndpointsRepository;
  readonly audit: AuditCoreRepository;
  /** Sends delivery messages; resolves with those not sent. */
  readonly send: (messages: readonly DeliveryMessage[]) => Promise<readonly DeliveryMessage[]>;
  readonly policy: AddressPolicy;
  readonly defaultMaxAttempts: number;
  readonly now?: () => Date;
  /** Resolves a host name (registration-time SSRF check); absent = no DNS check. */
  readonly resolve?: (host: string) => Promise<readonly string[]>;
}

/** Some deliveries could not be put on the queue (nothing was half-done: retry the call). */
export class WebhookEnqueueError extends Error {
  override readonly name = 'WebhookEnqueueError';
}

export type { WebhookAdmin } from '../core/webhookAdmin.js';

export function createWebhookAdmin(deps: WebhookAdminDeps): WebhookAdmin {
  const now = deps.now ?? (() => new Date());

  const find = async (tenantId: string, endpointId: string) => {
    const endpoint = await deps.endpoints.get(tenantId, endpointId);
    if (!endpoint) throw new WebhookEndpointNotFoundError(tenantId, endpointId);
    return endpoint;
  };

  const note = async (
    tenantId: string,
    operation: WebhookOperation,
    actor: Actor,
    endpointId: string,
    details?: Record<string, unknown>,
  ) => {
    await deps.audit.recordTenantNote(tenantId, operationNote(operation, actor, endpointId, details), now());
  };

  const checkDns = async (url: string) => {
    if (!deps.resolve) return;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) return;
    let addresses: readonly string[];
    try {
      addresses = await deps.resolve(host);
    } catch {
      return; // not resolvable yet: the connect-time check still guards every attempt
    }
    try {
      for (const address of addresses) checkResolvedAddress(host, address, deps.policy);
    } catch (error) {
      if (error instanceof AddressRefusedError)
        throw new WebhookConfigurationError('url', error.message, { cause: error });
      throw error;
    }
  };

  const enqueue = async (messages: readonly DeliveryMessage[]) => {
    const unsent = await deps.send(messages);
    if (unsent.length > 0)
      throw new WebhookEnqueueError(`${unsent.length} of ${messages.length} deliveries could not be queued`);
  };

  /** The tenant's events since `since`, newest first per channel, from the audit's channel index. */
  const eventsSince = async (tenantId: string, since: Date) => {
    const channels = await deps.endpoints.listSeen(tenantId, 'channel');
    const found: AuditEventItem[] = [];
    let truncated = false;
    for (const { name } of channels) {
      let before: string | undefined;
      for (;;) {
        const page = await deps.audit.queryChannel(tenantId, name, {
          limit: 100,
          ascending: false,
          ...(before !== undefined ? { beforePosition: before } : {}),
        });
        const fresh = page.items.filter((item) => Date.parse(item.envelope.time) >= since.getTime());
        found.push(...fresh);
        if (found.length >= MAX_RECOVER_EVENTS) {
          truncated = true;
          break;
        }
        // Newest first: a page that reaches before `since` ends this channel.
        if (fresh.length < page.items.length || page.nextPosition === undefined) break;
        before = page.nextPosition;
      }
      if (truncated) break;
    }
    return { events: found.slice(0, MAX_RECOVER_EVENTS), truncated };
  };

  return {
    list: (tenantId) => deps.endpoints.listByTenant(tenantId),
    get: find,

    async create(actor, tenantId, input) {
      const endpoint = createEndpoint(input, {
        tenantId,
        now: now(),
        policy: deps.policy,
        defaultMaxAttempts: deps.defaultMaxAttempts,
      });
      await checkDns(endpoint.url);
      await deps.endpoints.create(endpoint);
      await note(tenantId, 'endpoint.create', actor, endpoint.id, { url: endpoint.url });
      return endpoint;
    },

    async update(actor, tenantId, endpointId, patch) {
      const updated = updateEndpoint(await find(tenantId, endpointId), patch, {
        now: now(),
        policy: deps.policy,
      });
      if (patch.url) await checkDns(updated.url);
      await deps.endpoints.saveSettings(updated);
      await note(tenantId, 'endpoint.update', actor, endpointId, { changed: Object.keys(patch) });
      return updated;
    },

    async setEnabled(actor, tenantId, endpointId, enabled, reason) {
      await find(tenantId, endpointId);
      const why = reason ?? (enabled ? undefined : `disabled by ${actor.subject}`);
      await deps.endpoints.setEnabled(tenantId, endpointId, enabled, why, now());
      await note(tenantId, enabled ? 'endpoint.enable' : 'endpoint.disable', actor, endpointId, {
        ...(why ? { reason: why } : {}),
      });
      return find(tenantId, endpointId);
    },

    async remove(actor, tenantId, endpointId) {
      await deps.endpoints.remove(tenantId, endpointId);
      await note(tenantId, 'endpoint.delete', actor, endpointId);
    },

    async rotateSecret(actor, tenantId, endpointId, graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS) {
      const rotated = rotateSecret(await find(tenantId, endpointId), { now: now(), graceSeconds });
      await deps.endpoints.saveSecrets(rotated);
      await note(tenantId, 'endpoint.rotate_secret', actor, endpointId, { graceSeconds });
      return rotated;
    },

    async eventAttempts(tenantId, eventId) {
      const { event, attempts } = await deps.audit.getEventWithAttempts(tenantId, eventId);
      // Another tenant's event is answered exactly like an unknown one.
      const ownEvent = event && event.envelope.tenantId === tenantId ? event : undefined;
      const own = attempts.filter((a) => a.path === 'webhook' && a.tenantId === tenantId);
      if (!ownEvent && own.length === 0) throw new WebhookEventNotFoundError(tenantId, eventId);
      return { event: ownEvent, attempts: own };
    },

    async endpointAttempts(tenantId, endpointId, limit = 100) {
      await find(tenantId, endpointId);
      return deps.audit.listEndpointAttempts(tenantId, endpointId, { limit });
    },

    async recover(actor, tenantId, endpointId, since) {
      const endpoint = await find(tenantId, endpointId);
      const { events, truncated } = await eventsSince(tenantId, since);
      const withAttempts = await Promise.all(
        events.map(async (item) => ({
          envelope: item.envelope,
          attempts: (await deps.audit.getEventWithAttempts(tenantId, item.eventId)).attempts,
        })),
      );
      const missed = eventsToRecover(endpoint, withAttempts, since);
      await enqueue(missed.map((envelope) => deliveryOf(envelope, endpoint)));
      await note(tenantId, 'endpoint.recover', actor, endpointId, {
        since: since.toISOString(),
        enqueued: missed.length,
        scanned: events.length,
      });
      return {
        enqueued: missed.length,
        eventIds: missed.map((e) => e.id),
        scanned: events.length,
        truncated,
      };
    },

    async resend(actor, tenantId, endpointId, eventId) {
      const endpoint = await find(tenantId, endpointId);
      const event = await deps.audit.getEvent(tenantId, eventId);
      if (!event || event.envelope.tenantId !== tenantId)
        throw new WebhookEventNotFoundError(tenantId, eventId);
      await enqueue([deliveryOf(event.envelope, endpoint)]);
      await note(tenantId, 'endpoint.resend', actor, endpointId, { eventId });
      return { eventId };
    },

    async sendTest(actor, tenantId, endpointId) {
      const endpoint = await find(tenantId, endpointId);
      const envelope: Envelope = testEnvelope(tenantId, endpoint.id, now());
      // Straight to the delivery queue: signed, attempted and audited like any other delivery.
      await enqueue([deliveryOf(envelope, endpoint)]);
      await note(tenantId, 'endpoint.test', actor, endpointId, { eventId: envelope.id });
      return { eventId: envelope.id };
    },

    async eventTypes(tenantId) {
      const types = await deps.endpoints.listSeen(tenantId, 'eventType');
      return types.sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}

let fromEnv: WebhookAdmin | undefined;

/** The service on the tables and queue named by the environment (handlers, CLI). */
export function getWebhookAdmin(): WebhookAdmin {
  fromEnv ??= createWebhookAdmin({
    endpoints: getWebhookEndpointsRepository(),
    audit: getAuditCoreRepository(),
    send: (messages) =>
      sendDeliveries(getSqsSender(), requireEnv(topology.queues.webhookDeliveryQueue.env), messages),
    policy: addressPolicyFromEnv(process.env),
    defaultMaxAttempts: parseRetrySchedule(process.env[RETRY_SCHEDULE_ENV]).length,
    resolve: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
  });
  return fromEnv;
}
