/**
 * Standard Webhooks signing, via the `standardwebhooks` package rather than a hand-rolled HMAC:
 * `webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per valid secret,
 * space-separated (so receivers holding either secret verify during a rotation).
 */
import { Webhook } from 'standardwebhooks';
import type { Envelope } from './envelope.js';
import { toSummary } from './envelope.js';
import type { WebhookContent } from './webhookEndpoint.js';

export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** The request body: the whole envelope, or (content `summary`) the envelope without `data`. */
export function webhookBody(envelope: Envelope, content: WebhookContent): string {
  return JSON.stringify(content === 'full' ? envelope : toSummary(envelope));
}

/**
 * Signs one request. `id` is the event id, identical on every retry, so receivers de-duplicate on it;
 * the timestamp is the attempt's own, since receivers reject timestamps more than 5 minutes off.
 */
export function signWebhook(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): WebhookHeaders {
  if (input.secrets.length === 0) throw new Error('cannot sign a webhook without a secret');
  const signatures = input.secrets.map((secret) =>
    new Webhook(secret).sign(input.id, input.timestamp, input.body),
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(input.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
