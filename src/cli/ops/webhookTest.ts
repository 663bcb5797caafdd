/**
 * `webhooks test <id>`: one signed test event for an endpoint, built and signed exactly as a real
 * delivery is (Standard Webhooks headers with every active secret), sent through a port so the
 * CLI uses the delivery path's SSRF-checking HTTP client and tests use a fake.
 */
import { randomUUID } from 'node:crypto';
import type { HttpAttemptResult } from '../../core/deliveryOutcome.js';
import { ENVELOPE_VERSION, type Envelope, positionOf } from '../../core/envelope.js';
import { DEFAULT_USER_AGENT, type WebhookRequest } from '../../core/webhookDeliver.js';
import { activeSecrets, type WebhookEndpoint } from '../../core/webhookEndpoint.js';
import { signWebhook, webhookBody } from '../../core/webhookSigning.js';

/** The type of a test event: receivers can recognise (and ignore) it. */
export const TEST_EVENT_TYPE = 'outbox-relay.test';

export interface TestEventResult {
  readonly eventId: string;
  readonly request: WebhookRequest;
  readonly outcome: HttpAttemptResult;
}

export function testEnvelope(endpoint: Pick<WebhookEndpoint, 'tenantId'>, type: string, now: Date): Envelope {
  const id = `test_${randomUUID()}`;
  const time = now.toISOString();
  return {
    version: ENVELOPE_VERSION,
    id,
    source: 'outbox-relay-cli',
    tenantId: endpoint.tenantId,
    channel: 'outbox-relay.test',
    type,
    resourceId: null,
    time,
    position: positionOf(time, id),
    data: { test: true, message: 'A test event sent by an operator with "outbox-relay webhooks test".' },
  };
}

export async function sendTestEvent(
  endpoint: WebhookEndpoint,
  options: { now: Date; type: string; send: (request: WebhookRequest) => Promise<HttpAttemptResult> },
): Promise<TestEventResult> {
  const envelope = testEnvelope(endpoint, options.type, options.now);
  const body = webhookBody(envelope, endpoint.content);
  const signed = signWebhook({
    id: envelope.id,
    timestamp: options.now,
    body,
    secrets: activeSecrets(endpoint, options.now),
  });
  const request: WebhookRequest = {
    url: endpoint.url,
    headers: { ...signed, 'content-type': 'application/json', 'user-agent': DEFAULT_USER_AGENT },
    body,
    timeoutSeconds: endpoint.timeoutSeconds,
  };
  return { eventId: envelope.id, request, outcome: await options.send(request) };
}
