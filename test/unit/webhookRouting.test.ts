/** Dispatch reads endpoints without their secrets: the query names every attribute but `secrets`. */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createWebhookEndpointsRepository, endpointKey } from '../../src/aws/webhookEndpointsRepository.js';
import { WEBHOOK_ROUTING_ATTRIBUTES } from '../../src/core/webhookEndpoint.js';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(client);

describe('listRoutingByTenant', () => {
  it('asks only for the routing attributes and returns endpoints without secrets', async () => {
    mock.reset();
    const now = new Date('2026-11-30T00:00:00.000Z').toISOString();
    mock.on(QueryCommand).resolves({
      Items: [
        {
          ...endpointKey('acme', 'ep_1'),
          id: 'ep_1',
          tenantId: 'acme',
          url: 'https://hooks.example.com/in',
          eventTypes: ['order.*'],
          channels: [],
          content: 'full',
          timeoutSeconds: 10,
          maxAttempts: 8,
          enabled: true,
          failureStreak: 0,
          createdAt: now,
          updatedAt: now,
        },
      ],
    });
    const repo = createWebhookEndpointsRepository({ client, tableName: 'endpoints' });
    const endpoints = await repo.listRoutingByTenant('acme');
    expect(endpoints.map((e) => e.id)).toEqual(['ep_1']);
    expect(endpoints[0]).not.toHaveProperty('secrets');

    const input = mock.commandCalls(QueryCommand)[0]?.args[0].input;
    const projected = (input?.ProjectionExpression ?? '')
      .split(',')
      .map((p) => input?.ExpressionAttributeNames?.[p.trim()]);
    expect(projected).toEqual([...WEBHOOK_ROUTING_ATTRIBUTES]);
    expect(projected).not.toContain('secrets');
  });
});
