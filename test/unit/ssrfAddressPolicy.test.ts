import { describe, expect, it } from 'vitest';
import {
  addressPolicyFromEnv,
  checkResolvedAddress,
  checkWebhookUrl,
  classifyAddress,
  DEV_POLICY,
  embeddedIpv4,
  PRODUCTION_POLICY,
} from '../../src/core/addressPolicy.js';
import { AddressRefusedError } from '../../src/core/webhookErrors.js';

function refusal(url: string, policy = PRODUCTION_POLICY): AddressRefusedError {
  try {
    checkWebhookUrl(url, policy);
  } catch (error) {
    if (error instanceof AddressRefusedError) return error;
    throw error;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('webhook URL policy in production mode', () => {
  it.each([
    ['http://example.com/hook', 'scheme_not_allowed', /https only/],
    ['https://127.0.0.1/hook', 'loopback_address', /127\.0\.0\.1 is a loopback address/],
    ['https://169.254.169.254/latest/meta-data', 'link_local_address', /instance metadata/],
    ['https://[::1]/hook', 'loopback_address', /::1 is a loopback address/],
    ['https://10.0.0.1/hook', 'private_address', /private address/],
    ['https://192.168.1.10/', 'private_address', /private/],
    ['https://172.16.5.4/', 'private_address', /private/],
    ['https://[fc00::1]/', 'unique_local_address', /unique-local/],
    ['https://[fd12:3456::1]/', 'unique_local_address', /unique-local/],
    ['https://[fe80::1]/', 'link_local_address', /link-local/],
    ['https://0.0.0.0/', 'unspecified_address', /unspecified/],
    ['https://[::]/', 'unspecified_address', /unspecified/],
    ['https://2130706433/', 'loopback_address', /127\.0\.0\.1/],
    ['https://0x7f000001/', 'loopback_address', /127\.0\.0\.1/],
    ['https://0177.0.0.1/', 'loopback_address', /127\.0\.0\.1/],
    ['https://0x7f.1/', 'loopback_address', /127\.0\.0\.1/],
    ['https://127.1/', 'loopback_address', /127\.0\.0\.1/],
    ['https://0xa9fea9fe/', 'link_local_address', /169\.254\.169\.254/],
    ['https://[::ffff:127.0.0.1]/', 'loopback_address', /127\.0\.0\.1/],
    ['https://[::ffff:a9fe:a9fe]/', 'link_local_address', /169\.254\.169\.254/],
    ['https://[::ffff:8.8.8.8]/', 'reserved_address', /reserved/],
    ['https://[::127.0.0.1]/', 'loopback_address', /IPv4-compatible 127\.0\.0\.1/],
    ['https://[::a9fe:a9fe]/', 'link_local_address', /IPv4-compatible 169\.254\.169\.254/],
    ['https://[::ffff:0:10.0.0.1]/', 'private_address', /IPv4-translated 10\.0\.0\.1/],
    ['https://[64:ff9b::192.168.1.1]/', 'private_address', /IPv4-nat64 192\.168\.1\.1/],
    ['https://hooks.example.com:8443/', 'port_not_allowed', /port 8443 is not allowed/],
    ['https://localhost/hook', 'loopback_address', /loopback name/],
    ['https://LOCALHOST./hook', 'loopback_address', /loopback name/],
    ['https://user:pw@example.com/', 'credentials_in_url', /credentials/],
    ['not a url', 'invalid_url', /not a valid absolute URL/],
  ])('refuses %s with %s', (url, code, reason) => {
    const error = refusal(url);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(reason);
  });

  it('accepts an https URL on a public name or address', () => {
    expect(checkWebhookUrl('https://hooks.example.com/in', PRODUCTION_POLICY).hostname).toBe(
      'hooks.example.com',
    );
    expect(checkWebhookUrl('https://93.184.215.14/in', PRODUCTION_POLICY).hostname).toBe('93.184.215.14');
  });

  it('refuses a name that resolves to a private address at connect time', () => {
    expect(() => checkResolvedAddress('internal.example.com', '10.0.0.1', PRODUCTION_POLICY)).toThrow(
      /internal\.example\.com resolved to 10\.0\.0\.1: 10\.0\.0\.1 is a private address/,
    );
  });
});

describe('webhook URL policy in dev mode', () => {
  it('accepts http://127.0.0.1 and localhost receivers', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', DEV_POLICY).port).toBe('8080');
    expect(checkWebhookUrl('http://localhost:8080/hook', DEV_POLICY).hostname).toBe('localhost');
  });

  it('still refuses link-local and private addresses', () => {
    expect(refusal('http://169.254.169.254/', DEV_POLICY).code).toBe('link_local_address');
    expect(refusal('http://10.1.2.3/', DEV_POLICY).code).toBe('private_address');
  });

  it('is only switched on by an explicit true', () => {
    expect(addressPolicyFromEnv({ OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true' }).mode).toBe('dev');
    expect(addressPolicyFromEnv({ OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'yes please' }).mode).toBe(
      'production',
    );
    expect(addressPolicyFromEnv({}).mode).toBe('production');
  });
});

describe('address classification', () => {
  it('reads IPv6 forms embedding an IPv4 address by their IPv4 part', () => {
    expect(embeddedIpv4('::ffff:7f00:1')).toEqual({ ipv4: '127.0.0.1', form: 'mapped' });
    expect(embeddedIpv4('::ffff:10.0.0.1')).toEqual({ ipv4: '10.0.0.1', form: 'mapped' });
    expect(embeddedIpv4('::127.0.0.1')).toEqual({ ipv4: '127.0.0.1', form: 'compatible' });
    expect(embeddedIpv4('::a9fe:a9fe')).toEqual({ ipv4: '169.254.169.254', form: 'compatible' });
    expect(embeddedIpv4('::ffff:0:10.1.2.3')).toEqual({ ipv4: '10.1.2.3', form: 'translated' });
    expect(embeddedIpv4('64:ff9b::192.168.0.1')).toEqual({ ipv4: '192.168.0.1', form: 'nat64' });
    // IPv6's own loopback and unspecified addresses are not IPv4-compatible forms.
    expect(embeddedIpv4('::1')).toBeUndefined();
    expect(embeddedIpv4('::')).toBeUndefined();
    expect(embeddedIpv4('2001:db8::1')).toBeUndefined();
    expect(classifyAddress('::ffff:10.0.0.1')).toBe('private');
  });

  it('treats ordinary internet addresses as public', () => {
    expect(classifyAddress('8.8.8.8')).toBe('public');
    expect(classifyAddress('2606:4700:4700::1111')).toBe('public');
  });
});
