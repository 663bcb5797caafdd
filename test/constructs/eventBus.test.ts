/** The custom bus, its archive, the rules and their queue targets with a dead-letter queue. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type QueueName, type RuleDef, topology } from '../../src/contract/topology.js';
import { EVENT_SOURCE } from '../../src/core/envelope.js';
import { bundledTemplate, DEFAULT_STACK_NAME, queueId, resourcesOfType, synthStack } from './fixture.js';

const template = bundledTemplate();
const rules = Object.values(topology.bus.rules) as RuleDef[];

describe('EventBus', () => {
  it('creates a custom bus named after the stack', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `${DEFAULT_STACK_NAME}-bus` });
  });

  it('archives every event of the source with the topology retention', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: `${DEFAULT_STACK_NAME}-archive`,
      RetentionDays: topology.bus.archiveRetentionDays,
      EventPattern: { source: [EVENT_SOURCE] },
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventBus'), 'Arn'] },
    });
  });

  it('leaves no empty KmsKeyIdentifier on the archive (refused at deploy in some regions)', () => {
    const [, archive] = resourcesOfType(template, 'AWS::Events::Archive')[0] ?? [];
    expect(archive?.Properties).not.toHaveProperty('KmsKeyIdentifier');
  });

  it('sends each rule to its queue with retries and the bus target DLQ', () => {
    for (const rule of rules) {
      template.hasResourceProperties('AWS::Events::Rule', {
        Description: rule.description,
        EventBusName: { Ref: Match.stringLikeRegexp('^EventBus') },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [queueId(template, rule.targetQueue as QueueName), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId(template, 'busTargetDlq'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    }
  });

  it('lets only its rule (events.amazonaws.com with aws:SourceArn) send to each target queue', () => {
    const ruleIds = resourcesOfType(template, 'AWS::Events::Rule');
    for (const rule of rules) {
      const [ruleId] = ruleIds.find(([, r]) => r.Properties.Description === rule.description) ?? [''];
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId(template, rule.targetQueue as QueueName) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    }
    // The DLQ accepts each rule's failed deliveries, and nothing else.
    const dlqPolicy = resourcesOfType(template, 'AWS::SQS::QueuePolicy').find(
      ([, p]) =>
        JSON.stringify(p.Properties.Queues) === JSON.stringify([{ Ref: queueId(template, 'busTargetDlq') }]),
    );
    expect(dlqPolicy).toBeDefined();
    const document = dlqPolicy?.[1].Properties.PolicyDocument as {
      Statement: { Effect: string; Condition?: unknown }[];
    };
    const allows = document.Statement.filter((s) => s.Effect === 'Allow');
    expect(allows.length).toBeGreaterThanOrEqual(1);
    for (const allow of allows) expect(JSON.stringify(allow.Condition)).toContain('aws:SourceArn');
  });

  it('uses the configured names and archive retention', () => {
    const { template: custom } = synthStack({ namePrefix: 'acme-events', archiveRetentionDays: 7 });
    custom.hasResourceProperties('AWS::Events::EventBus', { Name: `acme-events-${DEFAULT_STACK_NAME}-bus` });
    custom.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: `acme-events-${DEFAULT_STACK_NAME}-archive`,
      RetentionDays: 7,
    });
  });
});
