/** Factories for webhook tests: envelopes, endpoints and delivery messages. */
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import type { Envelope } from '../../src/core/envelope.js';
import {
  createEndpoint,
  type EndpointSettingsInput,
  type WebhookEndpoint,
} from '../../src/core/webhookEndpoint.js';
import type { DeliveryMessage } from '../../src/core/webhookMessages.js';

export { envelopeFactory } from './publisherFactories.js';

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
