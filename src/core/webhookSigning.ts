/**
 * Standard Webhooks signing: `webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * keyed by the base64 part of the `whsec_` secret, one per valid secret, space-separated (so
 * receivers holding either secret verify during a rotation). HMAC from node:crypto: the
 * `standardwebhooks` package carried its own SHA-256 and base64 (~11 KB of the delivery bundle);
 * the tests verify these headers with that package, an independent implementation of the spec.
 */
import { createHmac } from 'node:crypto';
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
  const timestamp = String(Math.floor(input.timestamp.getTime() / 1000));
  const signed = `${input.id}.${timestamp}.${input.body}`;
  const signatures = input.secrets.map(
    (secret) => `v1,${createHmac('sha256', secretKeyBytes(secret)).update(signed).digest('base64')}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

const SECRET_PREFIX = 'whsec_';

/** The HMAC key: the secret's base64 part (the whole string when it lacks the prefix, as the spec's libraries do). */
function secretKeyBytes(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}
