/** Webhooks: queues with DLQs, the dispatcher and delivery mappings, grants, the retry schedule. */

import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { queueMappingOf } from '../../lib/eventSourceMappings.js';
import { type QueueName, topology } from '../../src/contract/topology.js';
import { RETRY_SCHEDULE_ENV } from '../../src/core/retrySchedule.js';
import { CIRCUIT_COOLDOWN_ENV, CIRCUIT_FAILURES_ENV } from '../../src/core/webhookCircuit.js';
import { WEBHOOK_ROUTING_ATTRIBUTES } from '../../src/core/webhookEndpoint.js';
import {
  bundledTemplate,
  functionId,
  policyStatementsOf,
  queueId,
  resource,
  synthStack,
  tableId,
} from './fixture.js';

const template = bundledTemplate();

describe('Webhooks', () => {
  it('lets only the delivery function read the signing secrets: the dispatcher reads the routing attributes', () => {
    const endpointsArn = JSON.stringify({ 'Fn::GetAtt': [tableId(template, 'webhookEndpoints'), 'Arn'] });
    const onEndpoints = (fn: 'webhookDispatcher' | 'webhookDelivery') =>
      policyStatementsOf(template, fn).filter((s) => JSON.stringify(s.Resource).includes(endpointsArn));
    const reads = (statement: Record<string, unknown>) =>
      JSON.stringify(statement.Action).includes('dynamodb:Query');
    const dispatcher = onEndpoints('webhookDispatcher').filter(reads);
    expect(dispatcher).toHaveLength(1);
    expect(dispatcher[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...WEBHOOK_ROUTING_ATTRIBUTES] },
      StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
    });
    expect(WEBHOOK_ROUTING_ATTRIBUTES).not.toContain('secrets');
    expect(WEBHOOK_ROUTING_ATTRIBUTES).toEqual(
      expect.arrayContaining(['pk', 'sk', 'url', 'enabled', 'eventTypes']),
    );
    // Its writes (the catalogue) return no values, which could carry a secret.
    for (const statement of onEndpoints('webhookDispatcher').filter((st) => !reads(st)))
      expect(statement.Condition).toEqual({ StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' } });
    const delivery = onEndpoints('webhookDelivery');
    expect(delivery.length).toBeGreaterThan(0);
    for (const statement of delivery) expect(statement.Condition).toBeUndefined();
  });

  it('gives the dispatch and delivery queues their dead-letter queues', () => {
    for (const name of ['webhookDispatchQueue', 'webhookDeliveryQueue'] as const) {
      const deadLetter = topology.queues[name].deadLetter;
      expect(resource(template, queueId(template, name)).Properties.RedrivePolicy, name).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [queueId(template, deadLetter.queue as QueueName), 'Arn'] },
        maxReceiveCount: deadLetter.maxReceiveCount,
      });
    }
  });

  it('runs the dispatcher and the delivery function on their queues with partial batch responses', () => {
    for (const [fn, queue] of [
      ['webhookDispatcher', 'webhookDispatchQueue'],
      ['webhookDelivery', 'webhookDeliveryQueue'],
    ] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionId(template, fn) },
        EventSourceArn: { 'Fn::GetAtt': [queueId(template, queue), 'Arn'] },
        BatchSize: queueMappingOf(fn).batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('lets the delivery function reschedule (visibility), re-send and dead-letter, and decrypt the endpoints table', () => {
    const statements = JSON.stringify(policyStatementsOf(template, 'webhookDelivery'));
    expect(statements).toContain('sqs:ChangeMessageVisibility');
    expect(statements).toContain(queueId(template, 'webhookDlq'));
    expect(statements).toContain('kms:Decrypt');
    // The dispatcher only sends to the delivery queue; it never touches the webhook DLQ.
    expect(JSON.stringify(policyStatementsOf(template, 'webhookDispatcher'))).not.toContain(
      queueId(template, 'webhookDlq'),
    );
  });

  it('passes the retry schedule to the delivery function', () => {
    const { template: custom } = synthStack({ webhookRetrySchedule: [0, 10, 60] });
    const env = (
      resource(custom, functionId(custom, 'webhookDelivery')).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env[RETRY_SCHEDULE_ENV]).toBe('0,10,60');
    expect(env.OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS).toBeUndefined();
  });

  it('turns the per-endpoint circuit breaker on by default, configurable and switchable off', () => {
    const envOf = (options: Parameters<typeof synthStack>[0]) => {
      const { template: t } = synthStack(options);
      return (
        resource(t, functionId(t, 'webhookDelivery')).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    };
    expect(envOf({})).toMatchObject({ [CIRCUIT_FAILURES_ENV]: '5', [CIRCUIT_COOLDOWN_ENV]: '30' });
    expect(envOf({ webhookCircuit: { openAfterFailures: 0, cooldownSeconds: 60 } })).toMatchObject({
      [CIRCUIT_FAILURES_ENV]: '0',
      [CIRCUIT_COOLDOWN_ENV]: '60',
    });
  });

  it('serves the tenant webhook API: one HTTP API proxy route to its function, throttled, access-logged, verifying the WebSocket tokens', () => {
    const httpApis = Object.entries(template.findResources('AWS::ApiGatewayV2::Api')).filter(
      ([, api]) => api.Properties.ProtocolType === 'HTTP',
    );
    expect(httpApis).toHaveLength(1);
    const apiId = httpApis[0]?.[0];
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: apiId },
      RouteKey: 'ANY /webhooks/{proxy+}',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue() },
    });
    const env = JSON.stringify(resource(template, functionId(template, 'webhookApi')).Properties.Environment);
    expect(env).toContain('JWT_SECRET_ARN');
    const statements = JSON.stringify(policyStatementsOf(template, 'webhookApi'));
    expect(statements).toContain('secretsmanager:GetSecretValue');
    expect(statements).toContain(queueId(template, 'webhookDeliveryQueue'));
  });
});
