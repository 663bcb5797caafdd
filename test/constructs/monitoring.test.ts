/** Dashboard and alarms: every DLQ, the publisher's iterator age, each function's error rate, webhook failures. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { deadLetterQueueNames } from '../../lib/topologyQueues.js';
import { type FunctionName, topology } from '../../src/contract/topology.js';
import { METRIC, METRICS_NAMESPACE } from '../../src/core/metricNames.js';
import { bundledTemplate, functionId, queueId, resourcesOfType, synthStack } from './fixture.js';

const template = bundledTemplate();
const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');

describe('Monitoring', () => {
  it('alarms as soon as any dead-letter queue holds a message', () => {
    const dlqs = deadLetterQueueNames();
    expect(dlqs.sort()).toEqual(
      ['auditDlq', 'busTargetDlq', 'fanoutDlq', 'publisherDlq', 'webhookDispatchDlq', 'webhookDlq'].sort(),
    );
    for (const name of dlqs) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(template, name), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
    }
  });

  it('alarms when the publisher falls behind the outbox stream', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(template, 'publisher') } }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it("alarms on each function's error rate", () => {
    const rateAlarms = alarms.filter(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? '').includes('100 * errors / invocations'),
    );
    expect(rateAlarms).toHaveLength(Object.keys(topology.functions).length);
    for (const name of Object.keys(topology.functions) as FunctionName[]) {
      const id = functionId(template, name);
      expect(
        rateAlarms.some(([, a]) => JSON.stringify(a.Properties.Metrics).includes(id)),
        name,
      ).toBe(true);
    }
  });

  it('alarms on the webhook failure rate from the EMF metrics', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: METRICS_NAMESPACE,
              MetricName: METRIC.webhookFailed,
              Dimensions: [{ Name: 'service', Value: 'webhookDelivery' }],
            },
          }),
        }),
      ]),
    });
  });

  it('alarms on any item of another tenant dropped by the last isolation check, on every service that checks', () => {
    const foreign = alarms.filter(([, a]) =>
      JSON.stringify(a.Properties.Metrics ?? '').includes(METRIC.foreignItemsDropped),
    );
    expect(foreign).toHaveLength(1);
    const [, alarm] = foreign[0] ?? [];
    expect(alarm?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    for (const service of ['fanout', 'wsMessage', 'webhookDispatcher']) {
      expect(JSON.stringify(alarm?.Properties.Metrics)).toContain(`{"Name":"service","Value":"${service}"}`);
    }
  });

  it('draws one dashboard for the whole path', () => {
    const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.[1].Properties.DashboardBody);
    for (const text of [
      'IteratorAge',
      METRIC.eventsPublished,
      METRIC.fanoutDelivered,
      METRIC.webhookDelivered,
      'MatchedEvents',
      'ConnectCount',
    ]) {
      expect(body, text).toContain(text);
    }
  });

  it('always creates the alarm topic, every alarm notifying it, and subscribes nobody unless asked', () => {
    const topics = resourcesOfType(template, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    const [topicId] = topics[0] ?? [''];
    for (const [id, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
    expect(resourcesOfType(template, 'AWS::SNS::Subscription')).toHaveLength(0);
  });

  it("alarms on every work queue's oldest message, throttles, WebSocket integration errors and failed rule deliveries", () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const metricNames = alarms.map((a) => a.MetricName);
    const workQueues = topology.queueMappings.map((m) => m.queue);
    const ageAlarms = alarms.filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(ageAlarms).toHaveLength(workQueues.length);
    expect(metricNames).toContain('IntegrationError');
    expect(alarms.filter((a) => a.MetricName === 'FailedInvocations')).toHaveLength(
      Object.keys(topology.bus.rules).length,
    );
    const throttles = alarms.find((a) => JSON.stringify(a.Metrics ?? []).includes('"Throttles"'));
    expect(JSON.stringify(throttles?.Metrics).match(/"Throttles"/g)).toHaveLength(
      Object.keys(topology.functions).length,
    );
  });

  it('with an alarm e-mail, notifies an encrypted, TLS-only topic from every alarm', () => {
    const { template: withEmail } = synthStack({ alarmEmail: 'ops@example.com' });
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    withEmail.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    withEmail.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const [topicId] = resourcesOfType(withEmail, 'AWS::SNS::Topic')[0] ?? [''];
    for (const [id, alarm] of resourcesOfType(withEmail, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
  });
});
