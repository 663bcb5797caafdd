/**
 * A refusal of the resolved address is final: the delivery path (core decision + the real HTTP
 * client with a fake resolver) dead-letters `url_refused`, audits `refused`, and tries once.
 */
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createWebhookHttpClient } from '../../src/aws/webhookDelivery.js';
import {
  type AddressPolicy,
  addressPolicyFromEnv,
  checkWebhookUrl,
  DEV_POLICY,
  PRODUCTION_POLICY,
  parseAllowedPorts,
  WEBHOOK_ALLOWED_PORTS_ENV,
} from '../../src/core/addressPolicy.js';
import type { DeliveryAttempt } from '../../src/core/auditRecord.js';
import { type DeliveryPorts, deliverMessage } from '../../src/core/webhookDeliver.js';
import { createEndpoint, type WebhookEndpoint } from '../../src/core/webhookEndpoint.js';
import { AddressRefusedError } from '../../src/core/webhookErrors.js';
import type { DeadLetter } from '../../src/core/webhookMessages.js';
import { deliveryMessageFactory, envelopeFactory } from './webhookFactories.js';

const NOW = new Date('2026-11-20T10:00:00Z');

function resolvingTo(address: string, family = 4): { lookup: LookupFunction; calls: string[] } {
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

function productionEndpoint(url: string): WebhookEndpoint {
  return createEndpoint(
    { url },
    { tenantId: 'tenant-a', now: NOW, policy: PRODUCTION_POLICY, defaultMaxAttempts: 8 },
  );
}

function recorder(endpoint: WebhookEndpoint, post: DeliveryPorts['post']) {
  const attempts: DeliveryAttempt[] = [];
  const deadLetters: DeadLetter[] = [];
  let posts = 0;
  const ports: DeliveryPorts = {
    getEndpoint: async () => endpoint,
    post: async (request) => {
      posts += 1;
      return post(request);
    },
    recordAttempt: async (_tenantId, _id, attempt) => {
      attempts.push(attempt);
    },
    recordTenantNote: async () => undefined,
    recordSuccess: async () => undefined,
    recordFailure: async () => ({ failureStreak: 1 }),
    disableEndpoint: async () => undefined,
    deadLetter: async (letter) => {
      deadLetters.push(letter);
    },
  };
  return { ports, attempts, deadLetters, posts: () => posts };
}

const config = {
  schedule: [0, 5, 300, 1800],
  streak: { minFailures: 1000, minSeconds: 0 },
  policy: PRODUCTION_POLICY,
  now: () => NOW,
  random: () => 0.5,
};

describe('a resolved address refused at connect time is final', () => {
  it.each([
    ['127.0.0.1', 4, /loopback/],
    ['169.254.169.254', 4, /link-local/],
    ['::ffff:0:a00:1', 6, /IPv4-translated 10\.0\.0\.1/],
    ['::7f00:1', 6, /IPv4-compatible 127\.0\.0\.1/],
  ])(
    'a public name resolving to %s: dead-lettered url_refused, audited refused, one attempt',
    async (address, family, words) => {
      const endpoint = productionEndpoint('https://hooks.example.com/in');
      const dns = resolvingTo(address, family);
      const client = createWebhookHttpClient({ policy: PRODUCTION_POLICY, lookup: dns.lookup });
      const world = recorder(endpoint, client);

      const decision = await deliverMessage(
        deliveryMessageFactory(envelopeFactory({ tenantId: 'tenant-a' }), endpoint),
        1,
        world.ports,
        config,
      );

      expect(decision).toEqual({
        kind: 'done',
        outcome: 'dead_lettered',
        attempted: true,
        endpointDisabled: false,
      });
      expect(world.posts()).toBe(1);
      expect(dns.calls).toEqual(['hooks.example.com']);
      expect(world.attempts).toHaveLength(1);
      expect(world.attempts[0]).toMatchObject({ attempt: 1, outcome: 'refused' });
      expect(world.attempts[0]?.error).toMatch(words);
      expect(world.deadLetters).toHaveLength(1);
      expect(world.deadLetters[0]?.deadLetter).toMatchObject({ code: 'url_refused', attempts: 1 });
      expect(world.deadLetters[0]?.deadLetter.reason).toMatch(/at connect time/);
    },
  );

  it('a connection failure to a public address is still retried (only refusals are final)', async () => {
    const endpoint = productionEndpoint('https://hooks.example.com/in');
    const world = recorder(endpoint, async () => ({
      kind: 'error',
      code: 'connection',
      message: 'ECONNREFUSED',
      durationMs: 1,
    }));
    const decision = await deliverMessage(
      deliveryMessageFactory(envelopeFactory({ tenantId: 'tenant-a' }), endpoint),
      1,
      world.ports,
      config,
    );
    expect(decision).toMatchObject({ kind: 'retry' });
    expect(world.deadLetters).toHaveLength(0);
  });
});

describe('webhook ports', () => {
  function refusalCode(url: string, policy: AddressPolicy): string | undefined {
    try {
      checkWebhookUrl(url, policy);
      return undefined;
    } catch (error) {
      if (error instanceof AddressRefusedError) return error.code;
      throw error;
    }
  }

  it('allows 443 (explicit or implied) and refuses other ports by default', () => {
    expect(refusalCode('https://hooks.example.com/in', PRODUCTION_POLICY)).toBeUndefined();
    expect(refusalCode('https://hooks.example.com:443/in', PRODUCTION_POLICY)).toBeUndefined();
    expect(refusalCode('https://hooks.example.com:8443/in', PRODUCTION_POLICY)).toBe('port_not_allowed');
    expect(refusalCode('https://93.184.215.14:22/', PRODUCTION_POLICY)).toBe('port_not_allowed');
  });

  it('takes the allow-list from WEBHOOK_ALLOWED_PORTS (the stack config)', () => {
    const policy = addressPolicyFromEnv({ [WEBHOOK_ALLOWED_PORTS_ENV]: '443, 8443' });
    expect(policy.mode).toBe('production');
    expect(refusalCode('https://hooks.example.com:8443/in', policy)).toBeUndefined();
    expect(refusalCode('https://hooks.example.com:9000/in', policy)).toBe('port_not_allowed');
    expect(() => parseAllowedPorts('443,http')).toThrow(RangeError);
    expect(() => parseAllowedPorts('70000')).toThrow(RangeError);
  });

  it('the message names the allowed ports', () => {
    expect(() => checkWebhookUrl('https://hooks.example.com:8080/', PRODUCTION_POLICY)).toThrow(
      /port 8080 is not allowed; webhook URLs may use port 443/,
    );
  });

  it('refuses a disallowed port at delivery too: dead-lettered url_refused without sending', async () => {
    // Registered before the allow-list was narrowed.
    const endpoint = {
      ...productionEndpoint('https://hooks.example.com/in'),
      url: 'https://hooks.example.com:8443/in',
    };
    const world = recorder(endpoint, async () => ({ kind: 'response', status: 200, durationMs: 1 }));
    await deliverMessage(deliveryMessageFactory(envelopeFactory(), endpoint), 1, world.ports, config);
    expect(world.posts()).toBe(0);
    expect(world.deadLetters[0]?.deadLetter).toMatchObject({ code: 'url_refused' });
    expect(world.attempts[0]).toMatchObject({ outcome: 'refused' });
  });

  it('the offline runtime still reaches its loopback receivers on any port', () => {
    expect(refusalCode('http://127.0.0.1:49152/hook', DEV_POLICY)).toBeUndefined();
    expect(refusalCode('http://localhost:3000/hook', DEV_POLICY)).toBeUndefined();
    expect(refusalCode('http://[::1]:8080/hook', DEV_POLICY)).toBeUndefined();
    // A public host in dev mode keeps the port rule (80 and 443).
    expect(refusalCode('http://hooks.example.com:8080/', DEV_POLICY)).toBe('port_not_allowed');
  });
});
