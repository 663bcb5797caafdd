/**
 * Dashboard and alarms for the whole path: outbox → publisher → bus → queues → functions →
 * WebSocket / webhooks / audit. Alarms: every dead-letter queue holding a message, every work
 * queue's oldest message growing old, the publisher falling behind its stream (iterator age), each
 * function's error rate, throttled functions, WebSocket integration errors, bus rules failing to
 * deliver, the webhook failure rate (custom EMF metrics, names from src/core/metricNames.ts).
 * Every alarm notifies an encrypted SNS topic (always created; an e-mail subscription is optional).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FunctionName, QueueName, RuleName } from '../src/contract/topology.js';
import {
  METRIC,
  METRIC_SERVICE,
  METRIC_SERVICE_DIMENSION,
  METRICS_NAMESPACE,
} from '../src/core/metricNames.js';
import { stackScopedName } from './naming.js';
import { deadLetterQueueNames } from './topologyQueues.js';

export interface MonitoringThresholds {
  /** Publisher iterator age (oldest unprocessed stream record) that raises the alarm. @default 300 seconds */
  readonly iteratorAgeSeconds?: number;
  /** Errors per invocation, in percent, for each function's alarm. @default 5 */
  readonly errorRatePercent?: number;
  /** Failed webhook attempts per attempt, in percent. @default 25 */
  readonly webhookFailureRatePercent?: number;
  /** Age of a work queue's oldest message that raises its alarm. @default 900 seconds */
  readonly queueAgeSeconds?: number;
  /** Per-queue age thresholds (a queue whose messages wait for scheduled retries needs more). */
  readonly queueAgeSecondsByQueue?: Partial<Record<QueueName, number>>;
  /** WebSocket integration errors per 5 minutes that raise the alarm. @default 5 */
  readonly webSocketIntegrationErrors?: number;
}

export interface MonitoringProps {
  /** Every function of the stack, by topology name. */
  readonly functions: Partial<Record<FunctionName, lambda.IFunction>>;
  /** Every queue of the stack, by topology name (dead-letter queues are picked from it). */
  readonly queues: Partial<Record<QueueName, sqs.IQueue>>;
  readonly eventBus?: events.IEventBus;
  readonly rules?: Partial<Record<RuleName, events.IRule>>;
  readonly webSocketStage?: apigwv2.IWebSocketStage;
  /** Leading part of the dashboard and alarm names, before the stack name. @default none */
  readonly namePrefix?: string;
  /** Subscribe this address to the alarm topic. @default no subscription (subscribe later, e.g. a pager) */
  readonly alarmEmail?: string;
  /** @default see MonitoringThresholds */
  readonly thresholds?: MonitoringThresholds;
  /** Removal policy of the alarm topic's key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

function customMetric(name: string, service: string, statistic = 'Sum'): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { [METRIC_SERVICE_DIMENSION]: service },
    statistic,
    period: FIVE_MINUTES,
  });
}

export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** Alarm per dead-letter queue, by topology queue name. */
  readonly deadLetterAlarms: Partial<Record<QueueName, cloudwatch.Alarm>> = {};
  readonly errorRateAlarms: Partial<Record<FunctionName, cloudwatch.Alarm>> = {};
  readonly iteratorAgeAlarm?: cloudwatch.Alarm;
  readonly webhookFailureRateAlarm?: cloudwatch.Alarm;
  /** Tenant isolation's last line dropped an item of another tenant (a forged or mis-built key). */
  readonly foreignItemsAlarm: cloudwatch.Alarm;
  /** Alarm per work queue (a queue a function consumes): its oldest message is too old. */
  readonly queueAgeAlarms: Partial<Record<QueueName, cloudwatch.Alarm>> = {};
  throttleAlarm?: cloudwatch.Alarm;
  webSocketIntegrationErrorAlarm?: cloudwatch.Alarm;
  readonly ruleFailureAlarms: Partial<Record<RuleName, cloudwatch.Alarm>> = {};
  /** Every alarm's action (and OK action). Subscribe to it: e-mail, chat, pager. */
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const scoped = (suffix: string) => stackScopedName(stackName, suffix, { prefix: props.namePrefix });
    const thresholds = {
      iteratorAgeSeconds: 300,
      errorRatePercent: 5,
      webhookFailureRatePercent: 25,
      queueAgeSeconds: 900,
      webSocketIntegrationErrors: 5,
      ...props.thresholds,
    };
    const functions = Object.entries(props.functions) as [FunctionName, lambda.IFunction][];

    // Always created, so every alarm has an action: an alarm nobody is told about is a log line.
    this.alarmTopic = this.createAlarmTopic(props);

    // Dead-letter queues: one message is already a failure somebody must look at.
    const dlqs = deadLetterQueueNames().flatMap((name) => {
      const queue = props.queues[name];
      return queue ? [[name, queue] as const] : [];
    });
    for (const [name, queue] of dlqs) {
      this.deadLetterAlarms[name] = this.addAlarm(`${name}Depth`, {
        alarmName: scoped(`${name}-not-empty`),
        alarmDescription: `Dead-letter queue ${name} holds messages: see docs/operations.md (a DLQ alarm fired)`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE_MINUTE }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const publisher = props.functions.publisher;
    if (publisher) {
      this.iteratorAgeAlarm = this.addAlarm('PublisherIteratorAge', {
        alarmName: scoped('publisher-iterator-age'),
        alarmDescription: `The publisher is more than ${thresholds.iteratorAgeSeconds} s behind the outbox stream`,
        metric: publisher.metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE }),
        threshold: thresholds.iteratorAgeSeconds * 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [name, fn] of functions) {
      const rate = new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, 100 * errors / invocations, 0)',
        usingMetrics: {
          errors: fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
          invocations: fn.metricInvocations({ statistic: 'Sum', period: FIVE_MINUTES }),
        },
        label: `${name} error rate (%)`,
        period: FIVE_MINUTES,
      });
      this.errorRateAlarms[name] = this.addAlarm(`${name}ErrorRate`, {
        alarmName: scoped(`${name}-error-rate`),
        alarmDescription: `Function ${name}: more than ${thresholds.errorRatePercent} % of invocations failed`,
        metric: rate,
        threshold: thresholds.errorRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const webhookFailureRate = new cloudwatch.MathExpression({
      expression: 'IF((delivered + failed) > 0, 100 * failed / (delivered + failed), 0)',
      usingMetrics: {
        delivered: customMetric(METRIC.webhookDelivered, METRIC_SERVICE.webhookDelivery),
        failed: customMetric(METRIC.webhookFailed, METRIC_SERVICE.webhookDelivery),
      },
      label: 'webhook failure rate (%)',
      period: FIVE_MINUTES,
    });
    if (props.functions.webhookDelivery) {
      this.webhookFailureRateAlarm = this.addAlarm('WebhookFailureRate', {
        alarmName: scoped('webhook-failure-rate'),
        alarmDescription: `More than ${thresholds.webhookFailureRatePercent} % of webhook attempts failed`,
        metric: webhookFailureRate,
        threshold: thresholds.webhookFailureRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // Injective keys keep this at 0 (docs/names.md): any item dropped means a key was forged or mis-built.
    this.foreignItemsAlarm = this.addAlarm('ForeignItemsDropped', {
      alarmName: scoped('foreign-items-dropped'),
      alarmDescription:
        'A key lookup returned an item of another tenant or channel; it was dropped, not delivered',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(fanout, 0) + FILL(wsMessage, 0) + FILL(webhookDispatcher, 0)',
        usingMetrics: {
          fanout: customMetric(METRIC.foreignItemsDropped, METRIC_SERVICE.fanout),
          wsMessage: customMetric(METRIC.foreignItemsDropped, METRIC_SERVICE.wsMessage),
          webhookDispatcher: customMetric(METRIC.foreignItemsDropped, METRIC_SERVICE.webhookDispatcher),
        },
        label: 'items of another tenant dropped',
        period: FIVE_MINUTES,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.addQueueAndDeliveryAlarms(props, scoped, thresholds, functions, new Set(dlqs.map(([n]) => n)));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: scoped('pipeline'),
      defaultInterval: Duration.hours(3),
    });
    this.addWidgets(props, functions, dlqs, webhookFailureRate);
  }

  private addAlarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** Work-queue age, throttles, WebSocket integration errors, bus rules failing to deliver. */
  private addQueueAndDeliveryAlarms(
    props: MonitoringProps,
    scopedName: (suffix: string) => string,
    thresholds: Required<Pick<MonitoringThresholds, 'queueAgeSeconds' | 'webSocketIntegrationErrors'>>,
    functions: readonly (readonly [FunctionName, lambda.IFunction])[],
    dlqNames: ReadonlySet<QueueName>,
  ): void {
    // A work queue's oldest message growing old means its consumer is stuck or too slow, long
    // before the message would expire.
    for (const [queueName, queue] of Object.entries(props.queues) as [QueueName, sqs.IQueue][]) {
      if (dlqNames.has(queueName)) continue;
      const seconds = props.thresholds?.queueAgeSecondsByQueue?.[queueName] ?? thresholds.queueAgeSeconds;
      this.queueAgeAlarms[queueName] = this.addAlarm(`${queueName}Age`, {
        alarmName: scopedName(`${queueName}-oldest-message-age`),
        alarmDescription: `Queue ${queueName}: a message has waited more than ${seconds} s (consumer stuck, throttled or too slow)`,
        metric: queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES }),
        threshold: seconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // One alarm over every function (a metric-math alarm takes at most 10 metrics).
    const throttled = functions.slice(0, 10);
    if (throttled.length > 0) {
      const usingMetrics = Object.fromEntries(
        throttled.map(([fnName, fn], index) => [
          `t${index}`,
          fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES, label: fnName }),
        ]),
      );
      this.throttleAlarm = this.addAlarm('FunctionThrottles', {
        alarmName: scopedName('functions-throttled'),
        alarmDescription: `A function was throttled (${throttled.map(([n]) => n).join(', ')}): the account's concurrency or a reserved limit is exhausted`,
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(usingMetrics).join(' + '),
          usingMetrics,
          label: 'throttles',
          period: FIVE_MINUTES,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.webSocketStage) {
      const stage = props.webSocketStage;
      this.webSocketIntegrationErrorAlarm = this.addAlarm('WebSocketIntegrationErrors', {
        alarmName: scopedName('websocket-integration-errors'),
        alarmDescription: `WebSocket routes: more than ${thresholds.webSocketIntegrationErrors} integration errors in 5 minutes (a handler failed or timed out)`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/ApiGateway',
          metricName: 'IntegrationError',
          dimensionsMap: { ApiId: stage.api.apiId, Stage: stage.stageName },
          statistic: 'Sum',
          period: FIVE_MINUTES,
        }),
        threshold: thresholds.webSocketIntegrationErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.eventBus && props.rules) {
      for (const [ruleName, rule] of Object.entries(props.rules) as [RuleName, events.IRule][]) {
        this.ruleFailureAlarms[ruleName] = this.addAlarm(`${ruleName}RuleFailedInvocations`, {
          alarmName: scopedName(`${ruleName}-rule-failed-invocations`),
          alarmDescription: `Bus rule ${ruleName} could not deliver to its queue (retried, then sent to busTargetDlq)`,
          metric: new cloudwatch.Metric({
            namespace: 'AWS/Events',
            metricName: 'FailedInvocations',
            dimensionsMap: { EventBusName: props.eventBus.eventBusName, RuleName: rule.ruleName },
            statistic: 'Sum',
            period: FIVE_MINUTES,
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      }
    }
  }

  private createAlarmTopic(props: MonitoringProps): sns.Topic {
    // CloudWatch cannot publish to a topic under the AWS-managed SNS key: it needs a key of ours.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'outbox-relay: alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" means this key
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      masterKey: key,
      enforceSSL: true,
      displayName: 'outbox-relay alarms',
    });
    if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    return topic;
  }

  private addWidgets(
    props: MonitoringProps,
    functions: readonly (readonly [FunctionName, lambda.IFunction])[],
    dlqs: readonly (readonly [QueueName, sqs.IQueue])[],
    webhookFailureRate: cloudwatch.IMetric,
  ): void {
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const custom = (name: string, service: string, statistic = 'Sum') =>
      customMetric(name, service, statistic);

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# outbox-relay\noutbox → publisher → bus → queues → fan-out (WebSocket) / webhooks / audit. Runbook: docs/operations.md',
        width: 24,
        height: 2,
      }),
    );

    const publisher = props.functions.publisher;
    if (publisher) {
      this.dashboard.addWidgets(
        graph('Publisher: events', [
          custom(METRIC.eventsPublished, METRIC_SERVICE.publisher),
          custom(METRIC.eventsQuarantined, METRIC_SERVICE.publisher),
          custom(METRIC.putEventsRetries, METRIC_SERVICE.publisher),
        ]),
        graph('Publisher: iterator age (ms)', [
          publisher.metric('IteratorAge', { statistic: 'Maximum', period: ONE_MINUTE }),
        ]),
        graph('Publisher: invocations and errors', [publisher.metricInvocations(), publisher.metricErrors()]),
      );
    }

    if (props.eventBus && props.rules) {
      const ruleMetric = (metricName: string, rule: events.IRule) =>
        new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName,
          dimensionsMap: { EventBusName: props.eventBus?.eventBusName ?? '', RuleName: rule.ruleName },
          statistic: 'Sum',
          period: FIVE_MINUTES,
          label: `${metricName} ${rule.ruleName}`,
        });
      const rules = Object.values(props.rules).filter((r): r is events.IRule => r !== undefined);
      this.dashboard.addWidgets(
        graph(
          'Bus rules: matched events',
          rules.map((r) => ruleMetric('MatchedEvents', r)),
          12,
        ),
        graph(
          'Bus rules: failed and dead-lettered deliveries',
          rules.flatMap((r) => [ruleMetric('FailedInvocations', r), ruleMetric('InvocationsSentToDlq', r)]),
          12,
        ),
      );
    }

    const dlqNames = new Set(dlqs.map(([name]) => name));
    const workQueues = (Object.entries(props.queues) as [QueueName, sqs.IQueue][]).filter(
      ([name]) => !dlqNames.has(name),
    );
    this.dashboard.addWidgets(
      graph(
        'Queues: messages waiting',
        workQueues.map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ label: name, statistic: 'Maximum' }),
        ),
      ),
      graph(
        'Queues: age of oldest message (s)',
        workQueues.map(([name, q]) =>
          q.metricApproximateAgeOfOldestMessage({ label: name, statistic: 'Maximum' }),
        ),
      ),
      graph(
        'Dead-letter queues: messages (alarm > 0)',
        dlqs.map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ label: name, statistic: 'Maximum' }),
        ),
      ),
    );

    this.dashboard.addWidgets(
      graph('Fan-out', [
        custom(METRIC.fanoutSubscribers, METRIC_SERVICE.fanout),
        custom(METRIC.fanoutDelivered, METRIC_SERVICE.fanout),
        custom(METRIC.fanoutGone, METRIC_SERVICE.fanout),
        custom(METRIC.fanoutFailed, METRIC_SERVICE.fanout),
        custom(METRIC.fanoutRefreshed, METRIC_SERVICE.fanout),
      ]),
      graph('Resume', [
        custom(METRIC.resumeRequests, METRIC_SERVICE.wsMessage),
        custom(METRIC.resumeReplayed, METRIC_SERVICE.wsMessage),
      ]),
      graph('End-to-end lag (ms, p99)', [
        custom(METRIC.endToEndLag, METRIC_SERVICE.fanout, 'p99'),
        custom(METRIC.endToEndLag, METRIC_SERVICE.webhookDelivery, 'p99'),
      ]),
    );

    if (props.webSocketStage) {
      const stage = props.webSocketStage;
      const apiMetric = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/ApiGateway',
          metricName,
          dimensionsMap: { ApiId: stage.api.apiId, Stage: stage.stageName },
          statistic: 'Sum',
          period: FIVE_MINUTES,
        });
      this.dashboard.addWidgets(
        graph(
          'WebSocket API: connects and messages',
          [apiMetric('ConnectCount'), apiMetric('MessageCount')],
          12,
        ),
        graph(
          'WebSocket API: errors',
          [apiMetric('ClientError'), apiMetric('IntegrationError'), apiMetric('ExecutionError')],
          12,
        ),
      );
    }

    this.dashboard.addWidgets(
      graph('Webhooks: attempts', [
        custom(METRIC.webhookDispatched, METRIC_SERVICE.webhookDispatcher),
        custom(METRIC.webhookDelivered, METRIC_SERVICE.webhookDelivery),
        custom(METRIC.webhookRetried, METRIC_SERVICE.webhookDelivery),
        custom(METRIC.webhookFailed, METRIC_SERVICE.webhookDelivery),
        custom(METRIC.webhookDeadLettered, METRIC_SERVICE.webhookDelivery),
        custom(METRIC.webhookDeferred, METRIC_SERVICE.webhookDelivery),
        custom(METRIC.webhookEndpointDisabled, METRIC_SERVICE.webhookDelivery),
      ]),
      graph('Webhooks: failure rate (%)', [webhookFailureRate]),
      graph('Audit: records written', [custom(METRIC.auditRecorded, METRIC_SERVICE.audit)]),
    );

    this.dashboard.addWidgets(
      graph(
        'Functions: errors',
        functions.map(([name, fn]) => fn.metricErrors({ label: name })),
        8,
      ),
      graph(
        'Functions: duration p99 (ms)',
        functions.map(([name, fn]) => fn.metricDuration({ label: name, statistic: 'p99' })),
        8,
      ),
      graph(
        'Functions: throttles',
        functions.map(([name, fn]) => fn.metricThrottles({ label: name })),
        8,
      ),
    );

    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 6 }),
    );
  }
}
