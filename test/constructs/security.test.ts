/** What every resource of a kind must have: encryption, SSL-only queues, PITR, log retention, no stray wildcards. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type QueueName, topology } from '../../src/contract/topology.js';
import { bundledTemplate, queueId, resourcesOfType } from './fixture.js';

const template = bundledTemplate();

describe('security defaults of the stack', () => {
  it('encrypts every queue and lets it be used over TLS only', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    expect(queues.length).toBe(Object.keys(topology.queues).length);
    for (const [id, queue] of queues) expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
    for (const name of Object.keys(topology.queues) as QueueName[]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId(template, name) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
  });

  it('turns on point-in-time recovery and encryption on every table', () => {
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
    expect(tables.length).toBe(Object.keys(topology.tables).length);
    for (const [id, table] of tables) {
      expect(table.Properties.PointInTimeRecoverySpecification, id).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      expect(table.Properties.SSESpecification, id).toMatchObject({ SSEEnabled: true });
      expect(table.Properties.BillingMode, id).toBe('PAY_PER_REQUEST');
    }
  });

  it('keeps the tables when the stack is deleted, by default', () => {
    for (const [id, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled, id).toBe(true);
    }
  });

  it('sets a retention on every log group', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    // One per function plus the WebSocket and the webhook API access logs.
    expect(groups.length).toBe(Object.keys(topology.functions).length + 2);
    for (const [id, group] of groups) expect(group.Properties.RetentionInDays, id).toBe(30);
  });

  it('gives every function its own log group and role, without managed policies', () => {
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      expect(fn.Properties.LoggingConfig, id).toMatchObject({ LogGroup: { Ref: expect.any(String) } });
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
    }
    for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      const assumedBy = JSON.stringify(role.Properties.AssumeRolePolicyDocument);
      if (assumedBy.includes('lambda.amazonaws.com'))
        expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it('grants "*" resources only for X-Ray and dynamodb:ListStreams, which have no resource-level permissions', () => {
    for (const [id, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
      const statements = (
        policy.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
      ).Statement;
      for (const statement of statements) {
        if (statement.Resource !== '*') continue;
        const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
        for (const action of actions) {
          expect(
            ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams'],
            `${id}: ${action}`,
          ).toContain(action);
        }
      }
    }
  });

  it('encrypts the webhook endpoints table (signing secrets) with a rotated customer-managed key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('EndpointsKey'), 'Arn'] },
      },
    });
  });
});
