/**
 * Dispatch: one bus event → one delivery message per enabled endpoint of the tenant whose
 * filters match, so every endpoint retries on its own and a slow one never holds up another.
 * Pure core with ports; `lambdas/webhook-dispatcher` adapts SQS to it.
 */
import * as z from 'zod';
import { type Envelope, envelopeSchema } from './envelope.js';
import type { LogPort } from './log.js';
import { consoleLog } from './log.js';
import type { WebhookRouting } from './webhookEndpoint.js';
import { endpointWantsEvent } from './webhookFilter.js';
import type { DeliveryMessage } from './webhookMessages.js';

/** The SQS body an EventBridge rule delivers: the whole event, `detail` = our envelope. */
const busEventSchema = z.object({
  'detail-type': z.string(),
  source: z.string(),
  detail: envelopeSchema,
});

export type DispatchRefusalCode = 'body_not_json' | 'not_a_bus_event';

export type ParsedDispatchBody =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly code: DispatchRefusalCode; readonly reason: string };

export function parseDispatchBody(body: string): ParsedDispatchBody {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, code: 'body_not_json', reason: 'message body is not JSON' };
  }
  const parsed = busEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map(String).join('.') : 'body';
    return {
      ok: false,
      code: 'not_a_bus_event',
      reason: `not an EventBridge event with an envelope: ${where}: ${issue?.message}`,
    };
  }
  return { ok: true, envelope: parsed.data.detail };
}

export function planDeliveries(envelope: Envelope, endpoints: readonly WebhookRouting[]): DeliveryMessage[] {
  return endpoints
    .filter(
      (endpoint) =>
        endpoint.enabled && endpoint.tenantId === envelope.tenantId && endpointWantsEvent(endpoint, envelope),
    )
    .map((endpoint) => ({
      eventId: envelope.id,
      endpointId: endpoint.id,
      tenantId: envelope.tenantId,
      attempt: 1,
      envelope,
    }));
}

export interface DispatchRecord {
  readonly messageId: string;
  readonly body: string;
}

export interface DispatchPorts {
  listEndpoints(tenantId: string): Promise<WebhookRouting[]>;
  /** Adds the event's type and channel to its tenant's catalogue (best effort; optional). */
  recordSeen?(envelope: Envelope): Promise<void>;
  /** Sends the messages; resolves with those that could not be sent. */
  sendDeliveries(messages: readonly DeliveryMessage[]): Promise<readonly DeliveryMessage[]>;
  quarantine(input: {
    messageId: string;
    body: string;
    code: DispatchRefusalCode;
    reason: string;
  }): Promise<void>;
  /** Where survived failures are logged (the handler's logger). @default JSON lines on stderr */
  log?: LogPort;
}

export interface DispatchResult {
  readonly failedMessageIds: string[];
  readonly deliveries: number;
  readonly quarantined: number;
}

/**
 * Handles a batch. A record whose body is not an event is quarantined with the reason (and
 * counts as handled); a record whose deliveries could not all be sent is reported failed, so it
 * comes back and is dispatched again (receivers de-duplicate on `webhook-id`).
 */
export async function dispatchRecords(
  records: readonly DispatchRecord[],
  ports: DispatchPorts,
): Promise<DispatchResult> {
  const log = ports.log ?? consoleLog;
  const endpointsByTenant = new Map<string, Promise<WebhookRouting[]>>();
  const failedMessageIds: string[] = [];
  let deliveries = 0;
  let quarantined = 0;
  await Promise.all(
    records.map(async (record) => {
      try {
        const parsed = parseDispatchBody(record.body);
        if (!parsed.ok) {
          await ports.quarantine({
            messageId: record.messageId,
            body: record.body,
            code: parsed.code,
            reason: parsed.reason,
          });
          quarantined += 1;
          return;
        }
        const tenantId = parsed.envelope.tenantId;
        if (ports.recordSeen) {
          await ports.recordSeen(parsed.envelope).catch((error: unknown) => {
            // The catalogue is a convenience: never hold a delivery for it.
            log.error('webhook catalogue not updated', { tenantId, error });
          });
        }
        let endpoints = endpointsByTenant.get(tenantId);
        if (!endpoints) {
          endpoints = ports.listEndpoints(tenantId);
          endpointsByTenant.set(tenantId, endpoints);
        }
        const planned = planDeliveries(parsed.envelope, await endpoints);
        if (planned.length === 0) return;
        const unsent = await ports.sendDeliveries(planned);
        if (unsent.length > 0) failedMessageIds.push(record.messageId);
        deliveries += planned.length - unsent.length;
      } catch (error) {
        log.error('webhook dispatch failed', { messageId: record.messageId, error });
        failedMessageIds.push(record.messageId);
      }
    }),
  );
  return { failedMessageIds, deliveries, quarantined };
}
