import { describe, expect, it } from 'vitest';
import { DEV_POLICY, PRODUCTION_POLICY } from '../../src/core/addressPolicy.js';
import { createEndpoint, updateEndpoint } from '../../src/core/webhookEndpoint.js';
import { WebhookConfigurationError } from '../../src/core/webhookErrors.js';
import { endpointFactory } from './webhookFactories.js';

const context = {
  tenantId: 'tenant-a',
  now: new Date('2026-11-20T10:00:00Z'),
  policy: PRODUCTION_POLICY,
  defaultMaxAttempts: 8,
};

function configurationError(run: () => unknown): WebhookConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a WebhookConfigurationError');
}

describe('webhook endpoint configuration', () => {
  it('applies defaults: full content, 15 s timeout, the schedule’s attempts, enabled, a fresh secret', () => {
    const endpoint = createEndpoint({ url: 'https://hooks.example.com/in' }, context);
    expect(endpoint).toMatchObject({
      tenantId: 'tenant-a',
      content: 'full',
      timeoutSeconds: 15,
      maxAttempts: 8,
      enabled: true,
      failureStreak: 0,
      eventTypes: [],
      channels: [],
    });
    expect(endpoint.id).toMatch(/^ep_/);
    expect(endpoint.secrets).toHaveLength(1);
  });

  it.each([
    [{ url: 'http://hooks.example.com/in' }, 'url', /https only/],
    [{ url: 'https://10.0.0.7/in' }, 'url', /private address/],
    [{ url: 'https://hooks.example.com', timeoutSeconds: 0 }, 'timeoutSeconds', /1/],
    [{ url: 'https://hooks.example.com', timeoutSeconds: 120 }, 'timeoutSeconds', /30/],
    [{ url: 'https://hooks.example.com', maxAttempts: 50 }, 'maxAttempts', /15/],
    [{ url: 'https://hooks.example.com', eventTypes: ['order*'] }, 'eventTypes.0', /prefix pattern/],
    [{ url: 'https://hooks.example.com', channels: ['*.x'] }, 'channels.0', /prefix pattern/],
  ])('refuses %j naming the field %s', (input, field, message) => {
    const error = configurationError(() => createEndpoint(input, context));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('accepts http://127.0.0.1 receivers only in dev mode', () => {
    expect(createEndpoint({ url: 'http://127.0.0.1:8080/' }, { ...context, policy: DEV_POLICY }).url).toBe(
      'http://127.0.0.1:8080/',
    );
    expect(configurationError(() => createEndpoint({ url: 'http://127.0.0.1:8080/' }, context)).field).toBe(
      'url',
    );
  });

  it('updates settings and keeps secrets and streak', () => {
    const endpoint = endpointFactory({ failureStreak: 3 });
    const updated = updateEndpoint(
      endpoint,
      { content: 'summary', eventTypes: ['order.*'] },
      { now: new Date(), policy: DEV_POLICY },
    );
    expect(updated).toMatchObject({
      content: 'summary',
      eventTypes: ['order.*'],
      failureStreak: 3,
      url: endpoint.url,
    });
    expect(updated.secrets).toEqual(endpoint.secrets);
    expect(
      configurationError(() =>
        updateEndpoint(endpoint, { timeoutSeconds: 99 }, { now: new Date(), policy: DEV_POLICY }),
      ).field,
    ).toBe('timeoutSeconds');
  });
});
