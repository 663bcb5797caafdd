/**
 * The OutboxRelay rule pack: the shipped configurations pass it (default, everything on, two
 * stacks in one app); for every rule a deliberately wrong setting makes it fail with that rule's
 * message and source; `cdk synth` itself fails on a finding; an acknowledgment with a reason
 * silences exactly one.
 */
import { App, Duration, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { OutboxRelayOptions } from '../../lib/config.js';
import { OutboxRelayChecks, outboxRelayRuleId } from '../../lib/nag/OutboxRelayChecks.js';
import { OUTBOX_RELAY_RULES } from '../../lib/nag/rules.js';
import { OutboxRelayStack } from '../../lib/OutboxRelayStack.js';
import { synthStack } from './fixture.js';

interface Finding {
  readonly rule: string;
  readonly path: string;
  readonly message: string;
}

function findings(scope: IConstruct): Finding[] {
  const report = new OutboxRelayChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      rule: v.ruleName,
      path: r.constructPath ?? '',
      message: v.description,
    })),
  );
}

function resourcesOf(stack: Stack): { Type: string; Properties?: Record<string, unknown> }[] {
  const json = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  return Object.values(json.Resources);
}

/** Every explicit physical name in a stack's template (bus, archive, API, dashboard, alarms). */
function physicalNames(stack: Stack): string[] {
  const property: Record<string, string> = {
    'AWS::Events::EventBus': 'Name',
    'AWS::Events::Archive': 'ArchiveName',
    'AWS::ApiGatewayV2::Api': 'Name',
    'AWS::CloudWatch::Dashboard': 'DashboardName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
  };
  return resourcesOf(stack).flatMap((r) => {
    const key = property[r.Type];
    const value = key ? r.Properties?.[key] : undefined;
    return typeof value === 'string' ? [value] : [];
  });
}

function appWithoutBundling(): App {
  return new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
}

const EVERYTHING_ON: OutboxRelayOptions = {
  auth: { mode: 'oidc', issuer: 'https://issuer.example.com', audience: 'outbox-relay' },
  alarmEmail: 'ops@example.com',
  tracing: false,
  trackedTables: [
    {
      tableName: 'orders',
      streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
      tenantAttribute: 'tenant',
      channelAttribute: 'channel',
      typePrefix: 'order',
    },
  ],
};

describe('OutboxRelay rule pack on the shipped configurations', () => {
  it('finds nothing in the default stack', () => {
    expect(findings(synthStack().stack)).toEqual([]);
  });

  it('finds nothing with OIDC, tracked tables, an alarm e-mail and tracing off (nor does AwsSolutions)', () => {
    const { stack } = synthStack(EVERYTHING_ON);
    expect(findings(stack)).toEqual([]);
    const aws = new AwsSolutionsChecks().validateScope(stack);
    expect(aws.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('finds nothing in two stacks of one app, whose physical names all differ', () => {
    const app = appWithoutBundling();
    const first = new OutboxRelayStack(app, 'RelayBlue');
    const second = new OutboxRelayStack(app, 'RelayGreen', { options: { namePrefix: 'acme' } });
    expect(findings(app)).toEqual([]);
    const blue = physicalNames(first);
    const green = physicalNames(second);
    expect(blue.length).toBeGreaterThan(25);
    expect(blue).toContain('RelayBlue-bus');
    expect(green).toContain('acme-RelayGreen-bus');
    expect(blue.filter((n) => green.includes(n))).toEqual([]);
  });

  it('keeps a long stack name within the archive name limit and still unique', () => {
    const app = appWithoutBundling();
    const longName = `Relay${'x'.repeat(60)}`;
    const stack = new OutboxRelayStack(app, longName);
    const archive = String(
      resourcesOf(stack).find((r) => r.Type === 'AWS::Events::Archive')?.Properties?.ArchiveName,
    );
    expect(archive.length).toBeLessThanOrEqual(48);
    expect(findings(stack).filter((f) => f.rule.includes('StackScopedNames'))).toEqual([]);
  });
});

describe('OutboxRelay rule pack on deliberately wrong settings', () => {
  // One broken stack, one wrong setting per rule; each test finds its own rule on its own resource.
  const app = appWithoutBundling();
  const stack = new OutboxRelayStack(app, 'Broken');
  const cfn = <T>(construct: IConstruct) => construct.node.defaultChild as T;

  // SqsVisibility: the audit queue hides a message for less than 6 x the audit function's timeout.
  cfn<sqs.CfnQueue>(stack.auditLog.queue).visibilityTimeout = 60;
  // RetentionCoversRetries: the delivery queue keeps messages 4 days, the default schedule needs more.
  cfn<sqs.CfnQueue>(stack.webhooks.deliveryQueue).messageRetentionPeriod = 4 * 24 * 60 * 60;
  // DlqRetention: the fan-out DLQ keeps messages 1 day, its source 4.
  cfn<sqs.CfnQueue>(stack.webSocket.fanoutDeadLetterQueue).messageRetentionPeriod = 24 * 60 * 60;
  // IntegrationTimeout: wsMessage may run 30 s behind a 29 s integration.
  cfn<lambda.CfnFunction>(stack.webSocket.handlers.wsMessage.function).timeout = 30;
  // SqsMaxConcurrency: the dispatcher's mapping has no cap.
  const dispatcherMapping = stack.webhooks.dispatcher.function.node
    .findAll()
    .find((c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping);
  if (dispatcherMapping) dispatcherMapping.scalingConfig = undefined;
  // ConnectReservedConcurrency: the $connect function reserves nothing.
  cfn<lambda.CfnFunction>(stack.webSocket.handlers.wsConnect.function).reservedConcurrentExecutions =
    undefined;
  // QueueAlarmed: a work queue and its DLQ that no alarm watches.
  const unwatchedDlq = new sqs.Queue(stack, 'UnwatchedDlq', { retentionPeriod: Duration.days(14) });
  const unwatched = new sqs.Queue(stack, 'Unwatched', {
    visibilityTimeout: Duration.minutes(10),
    deadLetterQueue: { queue: unwatchedDlq, maxReceiveCount: 3 },
  });
  stack.functions.audit.addEventSource(new sources.SqsEventSource(unwatched, { maxConcurrency: 2 }));
  // AlarmAction: an alarm that tells nobody.
  new cloudwatch.Alarm(stack, 'Silent', {
    metric: stack.auditLog.queue.metricNumberOfMessagesSent(),
    threshold: 1,
    evaluationPeriods: 1,
  });
  // StackScopedNames: a fixed name another stack in the account would collide with.
  new events.EventBus(stack, 'FixedBus', { eventBusName: 'outbox-relay-bus' });
  // LeastPrivilegeActions: a scan and a wildcard verb in a function role.
  stack.functions.audit.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:Scan', 'sqs:*'], resources: ['*'] }),
  );

  const found = findings(stack);
  const expectations: Record<string, { path: string; says: RegExp }> = {
    SqsVisibility: { path: 'Broken/Default/AuditLog/Audit/Function/SqsEventSource', says: /needs 6 × 30 s/ },
    RetentionCoversRetries: {
      path: 'Broken/Default/Webhooks/WebhookDeliveryQueue/',
      says: /WEBHOOK_RETRY_SCHEDULE/,
    },
    DlqRetention: { path: 'Broken/Default/WebSocket/FanoutQueue/', says: /FanoutDlq/ },
    IntegrationTimeout: { path: 'Broken/Default/WebSocket/Api/', says: /runs up to 30 s/ },
    SqsMaxConcurrency: {
      path: 'Broken/Default/Webhooks/Dispatcher/Function/SqsEventSource',
      says: /MaximumConcurrency/,
    },
    ConnectReservedConcurrency: { path: 'Broken/Default/WebSocket/WsConnect/Function/', says: /\$connect/ },
    QueueAlarmed: { path: 'Broken/Unwatched', says: /without an Approximate/ },
    AlarmAction: { path: 'Broken/Silent/', says: /no AlarmActions/ },
    StackScopedNames: { path: 'Broken/FixedBus/', says: /does not contain the stack name/ },
    LeastPrivilegeActions: { path: 'Broken/Default/AuditLog/Audit/Role/', says: /dynamodb:Scan/ },
  };

  it('covers every rule of the pack', () => {
    expect(Object.keys(expectations).sort()).toEqual(OUTBOX_RELAY_RULES.map((r) => r.id).sort());
  });

  for (const rule of OUTBOX_RELAY_RULES) {
    it(`${outboxRelayRuleId(rule)} fails the wrong setting, citing its source`, () => {
      const expected = expectations[rule.id];
      const mine = found.filter((f) => f.rule.startsWith(outboxRelayRuleId(rule)));
      expect(mine.map((f) => f.path).some((p) => expected && p.startsWith(expected.path))).toBe(true);
      const message = mine.find((f) => expected && f.path.startsWith(expected.path))?.message ?? '';
      expect(message).toMatch(expected?.says ?? /never/);
      expect(message).toContain(rule.source.url);
    });
  }

  it('reports each offending action as its own finding', () => {
    const ids = found
      .filter((f) => f.rule.startsWith('OutboxRelay-LeastPrivilegeActions'))
      .map((f) => f.rule);
    expect(ids).toEqual(
      expect.arrayContaining([
        'OutboxRelay-LeastPrivilegeActions[Action::dynamodb:Scan]',
        'OutboxRelay-LeastPrivilegeActions[Action::sqs:*]',
      ]),
    );
  });

  it('fails `cdk synth` with the rule id and its message', () => {
    const brokenApp = appWithoutBundling();
    const broken = new OutboxRelayStack(brokenApp, 'BrokenSynth');
    (broken.auditLog.queue.node.defaultChild as sqs.CfnQueue).visibilityTimeout = 60;
    Validations.of(brokenApp).addPlugins(new OutboxRelayChecks(brokenApp));
    expect(() => brokenApp.synth()).toThrow(/OutboxRelay-SqsVisibility[\s\S]*services-sqs-configure\.html/);
  });

  it('is silenced, one rule on one resource, by an acknowledgment with a reason', () => {
    const ackApp = appWithoutBundling();
    const acked = new OutboxRelayStack(ackApp, 'Acknowledged');
    const queue = acked.auditLog.queue;
    (queue.node.defaultChild as sqs.CfnQueue).visibilityTimeout = 60;
    new cloudwatch.Alarm(acked, 'Silent', {
      metric: queue.metricNumberOfMessagesSent(),
      threshold: 1,
      evaluationPeriods: 1,
    });
    const mapping = acked.auditLog.function.node
      .findAll()
      .find((c) => c instanceof lambda.CfnEventSourceMapping) as IConstruct;
    Validations.of(mapping).acknowledge({
      id: 'OutboxRelay-SqsVisibility',
      reason: 'test: this consumer never runs longer than 10 s',
    });
    expect(findings(acked).map((f) => f.rule)).toEqual(['OutboxRelay-AlarmAction']);
  });
});
