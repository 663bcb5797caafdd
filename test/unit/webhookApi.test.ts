import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebhookAdmin } from '../../src/core/webhookAdmin.js';
import { type ApiRequest, handleWebhookApi, MAX_API_BODY_BYTES } from '../../src/core/webhookApi.js';
import { WebhookConfigurationError, WebhookEndpointNotFoundError } from '../../src/core/webhookErrors.js';
import { TokenRejectedError } from '../../src/core/websocketErrors.js';
import { endpointFactory } from './webhookFactories.js';

const endpoint = endpointFactory({ tenantId: 't1', id: 'ep_1' });
const calls: string[] = [];
const admin = new Proxy({} as WebhookAdmin, {
  get:
    (_target, name: string) =>
    async (...args: unknown[]) => {
      calls.push(`${name}:${JSON.stringify(args)}`);
      if (args.includes('ep_missing')) throw new WebhookEndpointNotFoundError('t1', 'ep_missing');
      if (name === 'create') throw new WebhookConfigurationError('timeoutSeconds', 'must be at most 30');
      if (name === 'list') return [endpoint];
      return endpoint;
    },
});
const ports = {
  admin,
  verify: async (token: string | undefined) => {
    if (token !== 'good')
      throw new TokenRejectedError('bad_signature', 'The token signature does not verify');
    return { tenantId: 't1', subject: 'alice', allowedChannels: undefined };
  },
};
const request = (overrides: Partial<ApiRequest>): ApiRequest => ({
  method: 'GET',
  path: '/webhooks/endpoints',
  query: {},
  headers: { authorization: 'Bearer good' },
  body: undefined,
  ...overrides,
});

describe('tenant webhook API routing', () => {
  it('refuses a missing or bad token before any operation', async () => {
    calls.length = 0;
    expect((await handleWebhookApi(request({ headers: {} }), ports)).status).toBe(401);
    expect(
      (await handleWebhookApi(request({ headers: { authorization: 'Bearer bad' } }), ports)).status,
    ).toBe(401);
    expect(calls).toEqual([]);
  });

  it('acts on the token’s tenant and subject, and masks secrets in lists', async () => {
    calls.length = 0;
    const listed = await handleWebhookApi(request({}), ports);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(endpoint.secrets[0]?.secret);
    await handleWebhookApi(request({ method: 'POST', path: '/webhooks/endpoints/ep_1/test' }), ports);
    expect(calls).toEqual(['list:["t1"]', 'sendTest:[{"via":"api","subject":"alice"},"t1","ep_1"]']);
  });

  it('maps refusals to statuses with a code (and the field when there is one)', async () => {
    const cases: [Partial<ApiRequest>, number, string][] = [
      [{ path: '/webhooks/nothing' }, 404, 'NOT_FOUND'],
      [{ method: 'PUT', path: '/webhooks/endpoints' }, 405, 'METHOD_NOT_ALLOWED'],
      [{ path: '/webhooks/endpoints/ep_missing' }, 404, 'NOT_FOUND'],
      [{ method: 'POST', body: '{not json' }, 400, 'INVALID_REQUEST'],
      [{ method: 'POST', body: '{"url":"https://x.example","secret":"mine"}' }, 400, 'INVALID_REQUEST'],
      [{ method: 'POST', body: '{"url":"https://x.example","timeoutSeconds":99}' }, 400, 'INVALID_SETTING'],
      [{ method: 'PATCH', path: '/webhooks/endpoints/ep_1', body: '{}' }, 400, 'INVALID_REQUEST'],
      [
        { method: 'POST', path: '/webhooks/endpoints/ep_1/recover', body: '{"since":"yesterday"}' },
        400,
        'INVALID_REQUEST',
      ],
      [{ method: 'POST', body: 'x'.repeat(MAX_API_BODY_BYTES + 1) }, 413, 'BODY_TOO_LARGE'],
    ];
    for (const [overrides, status, code] of cases) {
      const answer = await handleWebhookApi(request(overrides), ports);
      expect({ overrides, status: answer.status, code: (answer.body as { error: string }).error }).toEqual({
        overrides,
        status,
        code,
      });
    }
  });

  it('never throws and never answers 2xx on a hostile path or body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ maxLength: 300 }),
        async (tail, body) => {
          const answer = await handleWebhookApi(
            request({ method: 'POST', path: `/webhooks/endpoints/ep_missing/${tail}`, body }),
            ports,
          );
          expect(answer.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 200 },
    );
  });
});
