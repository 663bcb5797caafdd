/** Factories for webhook tests: envelopes, endpoints and delivery messages. */
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { ENVELOPE_VERSION, type Envelope, positionOf } from '../../src/core/envelope.js';
import {
  createEndpoint,
  type EndpointSettingsInput,
  type WebhookEndpoint,
} from '../../src/core/webhookEndpoint.js';
import type { DeliveryMessage } from '../../src/core/webhookMessages.js';

let counter = 0;

export function envelopeFactory(overrides: Partial<Envelope> = {}): Envelope {
  counter += 1;
  const id = overrides.id ?? `evt_${counter}`;
  const time = overrides.time ?? '2026-11-20T10:00:00.000Z';
  return {
    version: ENVELOPE_VERSION,
    id,
    source: 'outbox',
    tenantId: 'tenant-a',
    channel: 'orders',
    type: 'order.created',
    resourceId: 'order-1',
    time,
    position: positionOf(time, id),
    data: { total: 42 },
    ...overrides,
  };
}

export function endpointFactory(
  overrides: Partial<WebhookEndpoint> = {},
  settings: Partial<EndpointSettingsInput> = {},
): WebhookEndpoint {
  const endpoint = createEndpoint(
    { url: 'http://127.0.0.1:9/hook', ...settings },
    {
      tenantId: overrides.tenantId ?? 'tenant-a',
      now: new Date('2026-11-20T09:00:00Z'),
      policy: DEV_POLICY,
      defaultMaxAttempts: 8,
    },
  );
  return { ...endpoint, ...overrides };
}

export function deliveryMessageFactory(
  envelope: Envelope,
  endpoint: WebhookEndpoint,
  attempt = 1,
): DeliveryMessage {
  return { eventId: envelope.id, endpointId: endpoint.id, tenantId: envelope.tenantId, attempt, envelope };
}
