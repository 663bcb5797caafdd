import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookHttpClient } from '../../src/aws/webhookDelivery.js';
import { type AddressPolicy, PRODUCTION_POLICY } from '../../src/core/addressPolicy.js';
import { describeFailure } from '../../src/core/deliveryOutcome.js';
import type { WebhookRequest } from '../../src/core/webhookDeliver.js';
import { startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';

// Tests must never open a connection to a non-loopback address: every name is resolved by this
// fake, and each refused case must fail BEFORE a socket is connected.
function fakeDns(address: string, family = 4): { lookup: LookupFunction; calls: string[] } {
  const calls: string[] = [];
  const lookup: LookupFunction = (hostname, options, callback) => {
    calls.push(hostname);
    if (options.all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address, family },
      ]);
    else callback(null, address, family);
  };
  return { lookup, calls };
}

function request(url: string): WebhookRequest {
  return {
    url,
    headers: {
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': 'v1,x',
      'content-type': 'application/json',
      'user-agent': 'test',
    },
    body: '{}',
    timeoutSeconds: 5,
  };
}

let receiver: TestReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

describe('SSRF refusals at send time (production mode)', () => {
  it('refuses plain http before connecting', async () => {
    const dns = fakeDns('93.184.215.14');
    const result = await createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup })(
      request('http://example.com/'),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'url_refused' });
    expect(describeFailure(result)).toMatch(/scheme http is not allowed/);
    expect(dns.calls).toEqual([]);
  });

  it.each([
    ['https://127.0.0.1/', /loopback/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://[::1]/', /loopback/],
    ['https://2130706433/', /127\.0\.0\.1 is a loopback/],
    ['https://0x7f000001/', /127\.0\.0\.1 is a loopback/],
    ['https://0177.0.0.1/', /127\.0\.0\.1 is a loopback/],
  ])('refuses %s before connecting', async (url, reason) => {
    const dns = fakeDns('93.184.215.14');
    const result = await createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup })(
      request(url),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'url_refused' });
    expect(describeFailure(result)).toMatch(reason);
    expect(dns.calls).toEqual([]);
  });

  it('refuses a name that resolves to 10.0.0.1, after resolving and before connecting', async () => {
    const dns = fakeDns('10.0.0.1');
    const result = await createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup })(
      request('https://internal.example.com/hook'),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'address_refused' });
    expect(describeFailure(result)).toMatch(
      /internal\.example\.com resolved to 10\.0\.0\.1: 10\.0\.0\.1 is a private address/,
    );
    expect(dns.calls).toEqual(['internal.example.com']);
  });

  it('refuses a name re-bound to the metadata address at connect time', async () => {
    const dns = fakeDns('169.254.169.254');
    const result = await createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup })(
      request('https://rebinding.example.com/hook'),
    );
    expect(result).toMatchObject({ kind: 'error', code: 'address_refused' });
    expect(describeFailure(result)).toMatch(/169\.254\.169\.254 is a link-local address/);
  });

  it('refuses a name resolving to an IPv6 unique-local address', async () => {
    const dns = fakeDns('fd00::5', 6);
    const result = await createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup })(
      request('https://v6.example.com/hook'),
    );
    expect(describeFailure(result)).toMatch(/fd00::5 is a unique-local IPv6 address/);
  });

  it('does not follow a redirect to a private address; the 3xx is a failure', async () => {
    receiver = await startReceiver(() => ({ status: 302, headers: { location: 'http://10.0.0.1/admin' } }));
    // Test seam: production policy, except that the first hop may reach the loopback receiver over http.
    const policy: AddressPolicy = {
      ...PRODUCTION_POLICY,
      allowPlainHttp: true,
      allowedAddresses: ['127.0.0.1'],
    };
    const dns = fakeDns('10.0.0.1');
    const result = await createWebhookHttpClient({ policy, lookup: dns.lookup })(request(receiver.url));
    expect(result).toMatchObject({ kind: 'response', status: 302, location: 'http://10.0.0.1/admin' });
    expect(describeFailure(result)).toMatch(/redirect refused \(HTTP 302 to http:\/\/10\.0\.0\.1\/admin\)/);
    expect(receiver.requests).toHaveLength(1);
    expect(dns.calls).toEqual([]);
  });
});
