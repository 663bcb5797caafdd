import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookHttpClient } from '../../src/aws/webhookDelivery.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { generateSecret } from '../../src/core/webhookEndpoint.js';
import { signWebhook } from '../../src/core/webhookSigning.js';
import { startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function signedRequest(url: string, secret: string, body = '{"hello":"world"}', timeoutSeconds = 5) {
  const headers = signWebhook({ id: 'evt_42', timestamp: new Date(), body, secrets: [secret] });
  return {
    url,
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'test' },
    body,
    timeoutSeconds,
  };
}

describe('webhook HTTP client (dev mode, loopback receiver)', () => {
  it('POSTs the body with headers a Standard Webhooks receiver verifies', async () => {
    receiver = await startReceiver();
    const secret = generateSecret();
    const result = await createWebhookHttpClient({ policy: DEV_POLICY })(signedRequest(receiver.url, secret));
    expect(result).toMatchObject({ kind: 'response', status: 204 });
    const [received] = receiver.requests;
    expect(received).toBeDefined();
    const headers = Object.fromEntries(
      Object.entries(received?.headers ?? {}).map(([k, v]) => [k, String(v)]),
    );
    expect(new Webhook(secret).verify(received?.body ?? '', headers)).toEqual({ hello: 'world' });
    expect(headers['webhook-id']).toBe('evt_42');
  });

  it('reports a receiver that does not answer in time as a timeout', async () => {
    receiver = await startReceiver(() => 'hang');
    const result = await createWebhookHttpClient({ policy: DEV_POLICY })(
      signedRequest(receiver.url, generateSecret(), '{}', 1),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'timeout', message: 'timed out after 1 s' });
  });

  it('stops reading a response body beyond the cap and still reports the status', async () => {
    receiver = await startReceiver(() => ({ status: 200, body: 'x'.repeat(512 * 1024) }));
    const result = await createWebhookHttpClient({ policy: DEV_POLICY, maxResponseBytes: 1024 })(
      signedRequest(receiver.url, generateSecret()),
    );
    expect(result).toMatchObject({ kind: 'response', status: 200 });
  });

  it('passes Retry-After back for the retry decision', async () => {
    receiver = await startReceiver(() => ({ status: 429, headers: { 'retry-after': '120' } }));
    const result = await createWebhookHttpClient({ policy: DEV_POLICY })(
      signedRequest(receiver.url, generateSecret()),
    );
    expect(result).toMatchObject({ kind: 'response', status: 429, retryAfter: '120' });
  });

  it('reports a refused connection as a connection error', async () => {
    receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close();
    receiver = undefined;
    const result = await createWebhookHttpClient({ policy: DEV_POLICY })(
      signedRequest(url, generateSecret()),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'connection' });
    expect(result.kind === 'error' && result.message).toMatch(/ECONNREFUSED/);
  });
});
