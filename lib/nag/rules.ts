/**
 * The rules of the OutboxRelay pack: one per AWS rule the design depends on, each with the AWS
 * document it comes from. A check reads the resolved stack (StackView) and returns `ok`, `n/a`, a
 * failure with the numbers behind it, or (IAM) one finding per offending action so each can be
 * acknowledged on its own. docs/deploy.md lists the same rules; a test keeps the two in step.
 */
import { parseRetrySchedule, RETRY_SCHEDULE_ENV } from '../../src/core/retrySchedule.js';
import { isStackScopedName } from '../naming.js';
import {
  requiredRedriveRetentionSeconds,
  requiredRetentionSeconds,
  requiredVisibilitySeconds,
  VISIBILITY_TIMEOUT_FACTOR,
  WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS,
} from './invariants.js';
import {
  type Json,
  numberOf,
  objectOf,
  type ResolvedResource,
  referencedId,
  referencedIds,
  type StackView,
} from './stackView.js';

export type RuleOutcome =
  | { readonly status: 'ok' }
  | { readonly status: 'n/a' }
  | { readonly status: 'fail'; readonly detail: string }
  | { readonly status: 'findings'; readonly findings: readonly string[]; readonly detail: string };

export interface OutboxRelayRule {
  /** Rule id without the pack prefix (`OutboxRelay-<id>`). */
  readonly id: string;
  /** What the rule requires, in one sentence. */
  readonly requires: string;
  /** The AWS document the requirement comes from. */
  readonly source: { readonly title: string; readonly url: string };
  readonly check: (resource: ResolvedResource, view: StackView) => RuleOutcome;
}

const OK: RuleOutcome = { status: 'ok' };
const NA: RuleOutcome = { status: 'n/a' };
const fail = (detail: string): RuleOutcome => ({ status: 'fail', detail });

/** CloudFormation defaults where a property is absent. */
const SQS_DEFAULT_VISIBILITY_SECONDS = 30;
const SQS_DEFAULT_RETENTION_SECONDS = 4 * 24 * 60 * 60;
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const APIGW_DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000;

const visibilityOf = (queue: ResolvedResource) =>
  numberOf(queue.properties.VisibilityTimeout) ?? SQS_DEFAULT_VISIBILITY_SECONDS;
const retentionOf = (queue: ResolvedResource) =>
  numberOf(queue.properties.MessageRetentionPeriod) ?? SQS_DEFAULT_RETENTION_SECONDS;
const timeoutOf = (fn: ResolvedResource) => numberOf(fn.properties.Timeout) ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS;
const days = (seconds: number) => `${(seconds / 86_400).toFixed(2)} days`;

/** The SQS queue an event source mapping reads, if it is one of this stack's queues. */
function sqsSourceOf(mapping: ResolvedResource, view: StackView): ResolvedResource | undefined {
  const source = view.get(referencedId(mapping.properties.EventSourceArn));
  return source?.type === 'AWS::SQS::Queue' ? source : undefined;
}

function mappingsReading(queue: ResolvedResource, view: StackView): ResolvedResource[] {
  return view
    .ofType('AWS::Lambda::EventSourceMapping')
    .filter((m) => referencedId(m.properties.EventSourceArn) === queue.logicalId);
}

function environmentOf(fn: ResolvedResource): Json {
  return objectOf(objectOf(fn.properties.Environment)?.Variables) ?? {};
}

/** Queues that hold failures: redrive targets, mapping on-failure destinations, rule-target DLQs. */
function deadLetterQueueIds(view: StackView): Set<string> {
  const ids = new Set<string>();
  for (const queue of view.ofType('AWS::SQS::Queue')) {
    const target = referencedId(objectOf(queue.properties.RedrivePolicy)?.deadLetterTargetArn);
    if (target) ids.add(target);
  }
  for (const mapping of view.ofType('AWS::Lambda::EventSourceMapping')) {
    const destination = objectOf(objectOf(objectOf(mapping.properties.DestinationConfig)?.OnFailure));
    const target = referencedId(destination?.Destination);
    if (target) ids.add(target);
  }
  for (const rule of view.ofType('AWS::Events::Rule')) {
    const targets = Array.isArray(rule.properties.Targets) ? rule.properties.Targets : [];
    for (const target of targets) {
      const id = referencedId(objectOf(objectOf(target)?.DeadLetterConfig)?.Arn);
      if (id) ids.add(id);
    }
  }
  return ids;
}

/** SQS metrics an alarm watches, as [metric name, queue logical id]. */
function sqsMetricsOf(alarm: ResolvedResource): [string, string][] {
  const metrics: Json[] = [];
  if (typeof alarm.properties.MetricName === 'string') metrics.push(alarm.properties);
  for (const query of Array.isArray(alarm.properties.Metrics) ? alarm.properties.Metrics : []) {
    const metric = objectOf(objectOf(objectOf(query)?.MetricStat)?.Metric);
    if (metric) metrics.push(metric);
  }
  return metrics.flatMap((metric) => {
    if (metric.Namespace !== 'AWS/SQS' || typeof metric.MetricName !== 'string') return [];
    const dimensions = Array.isArray(metric.Dimensions) ? metric.Dimensions : [];
    const queue = dimensions.map((d) => objectOf(d)).find((d) => d?.Name === 'QueueName');
    const id = referencedId(queue?.Value);
    return id ? [[metric.MetricName, id] as [string, string]] : [];
  });
}

/** Lambda functions (logical ids) an integration or authorizer URI points at. */
function functionsIn(value: unknown, view: StackView): ResolvedResource[] {
  return referencedIds(value)
    .map((id) => view.get(id))
    .filter((r): r is ResolvedResource => r?.type === 'AWS::Lambda::Function');
}

function isWebSocketApi(apiRef: unknown, view: StackView): boolean {
  return view.get(referencedId(apiRef))?.properties.ProtocolType === 'WEBSOCKET';
}

/** Functions every new WebSocket connection runs: the `$connect` route's integration and its authorizer. */
function connectPathFunctionIds(view: StackView): Set<string> {
  const ids = new Set<string>();
  for (const route of view.ofType('AWS::ApiGatewayV2::Route')) {
    if (route.properties.RouteKey !== '$connect') continue;
    for (const integration of referencedIds(route.properties.Target).map((id) => view.get(id))) {
      for (const fn of functionsIn(integration?.properties.IntegrationUri, view)) ids.add(fn.logicalId);
    }
    const authorizer = view.get(referencedId(route.properties.AuthorizerId));
    for (const fn of functionsIn(authorizer?.properties.AuthorizerUri, view)) ids.add(fn.logicalId);
  }
  return ids;
}

/** Physical-name property of resource types whose names must be unique per account and region. */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Archive': 'ArchiveName',
  'AWS::Events::Rule': 'Name',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::ApiGatewayV2::Api': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::IAM::Role': 'RoleName',
};

function usesStackNameToken(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('"Ref":"AWS::StackName"');
}

function isLambdaRole(role: ResolvedResource | undefined): boolean {
  if (role?.type !== 'AWS::IAM::Role') return false;
  return JSON.stringify(role.properties.AssumeRolePolicyDocument ?? {}).includes('lambda.amazonaws.com');
}

function allowedActions(document: unknown): string[] {
  const statements = objectOf(document)?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.flatMap((statement) => {
    const s = objectOf(statement);
    if (s?.Effect !== 'Allow') return [];
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    return actions.filter((a): a is string => typeof a === 'string');
  });
}

const isOverbroad = (action: string) => action.includes('*') || action.toLowerCase() === 'dynamodb:scan';

export const OUTBOX_RELAY_RULES: readonly OutboxRelayRule[] = [
  {
    id: 'SqsVisibility',
    requires: `An SQS queue feeding a Lambda function has a visibility timeout of at least ${VISIBILITY_TIMEOUT_FACTOR} × the function's timeout + the mapping's batching window.`,
    source: {
      title: 'AWS Lambda Developer Guide: Creating and configuring an Amazon SQS event source mapping',
      url: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html',
    },
    check(mapping, view) {
      if (mapping.type !== 'AWS::Lambda::EventSourceMapping') return NA;
      const queue = sqsSourceOf(mapping, view);
      const fn = view.get(referencedId(mapping.properties.FunctionName));
      if (!queue || !fn) return NA;
      const window = numberOf(mapping.properties.MaximumBatchingWindowInSeconds) ?? 0;
      const required = requiredVisibilitySeconds(timeoutOf(fn), window);
      const visibility = visibilityOf(queue);
      return visibility >= required
        ? OK
        : fail(
            `queue ${queue.logicalId} hides a message for ${visibility} s; its consumer ${fn.logicalId} needs ${VISIBILITY_TIMEOUT_FACTOR} × ${timeoutOf(fn)} s + ${window} s = ${required} s`,
          );
    },
  },
  {
    id: 'RetentionCoversRetries',
    requires:
      "A queue keeps a message longer than its worst-case retries (every receive up to maxReceiveCount, or the webhook retry schedule with Retry-After at its cap) plus a day's margin: SQS deletes an expired message without moving it to the DLQ.",
    source: {
      title:
        'Amazon SQS Developer Guide: Setting-up dead-letter queue retention (expiry counts from the first enqueue)',
      url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html',
    },
    check(queue, view) {
      if (queue.type !== 'AWS::SQS::Queue') return NA;
      const retention = retentionOf(queue);
      const visibility = visibilityOf(queue);
      const needs: [string, number][] = [];
      const maxReceiveCount = numberOf(objectOf(queue.properties.RedrivePolicy)?.maxReceiveCount);
      if (maxReceiveCount !== undefined)
        needs.push([
          `maxReceiveCount ${maxReceiveCount}`,
          requiredRedriveRetentionSeconds(maxReceiveCount, visibility),
        ]);
      for (const mapping of mappingsReading(queue, view)) {
        const fn = view.get(referencedId(mapping.properties.FunctionName));
        const raw = fn ? environmentOf(fn)[RETRY_SCHEDULE_ENV] : undefined;
        if (typeof raw !== 'string') continue;
        const schedule = parseRetrySchedule(raw);
        needs.push([
          `${RETRY_SCHEDULE_ENV} of ${fn?.logicalId} (${schedule.length} attempts)`,
          requiredRetentionSeconds(schedule, visibility),
        ]);
      }
      if (needs.length === 0) return NA;
      const [why, needed] = needs.reduce((a, b) => (b[1] > a[1] ? b : a));
      return retention >= needed
        ? OK
        : fail(`queue ${queue.logicalId} keeps messages ${days(retention)}; ${why} needs ${days(needed)}`);
    },
  },
  {
    id: 'DlqRetention',
    requires: 'A dead-letter queue keeps messages at least as long as its source queue.',
    source: {
      title: 'Amazon SQS Developer Guide: Setting-up dead-letter queue retention',
      url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html',
    },
    check(queue, view) {
      if (queue.type !== 'AWS::SQS::Queue') return NA;
      const dlq = view.get(referencedId(objectOf(queue.properties.RedrivePolicy)?.deadLetterTargetArn));
      if (!dlq) return NA;
      return retentionOf(dlq) >= retentionOf(queue)
        ? OK
        : fail(
            `dead-letter queue ${dlq.logicalId} keeps messages ${days(retentionOf(dlq))}, its source ${queue.logicalId} ${days(retentionOf(queue))}`,
          );
    },
  },
  {
    id: 'IntegrationTimeout',
    requires: `Every WebSocket route integration and authorizer answers within API Gateway's ${WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS} s integration timeout (its function's timeout included).`,
    source: {
      title:
        'Amazon API Gateway Developer Guide: Quotas for WebSocket APIs (integration timeout 50 ms - 29 s)',
      url: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html',
    },
    check(resource, view) {
      const isIntegration = resource.type === 'AWS::ApiGatewayV2::Integration';
      if (!isIntegration && resource.type !== 'AWS::ApiGatewayV2::Authorizer') return NA;
      if (!isWebSocketApi(resource.properties.ApiId, view)) return NA;
      const problems: string[] = [];
      if (isIntegration) {
        const ms = numberOf(resource.properties.TimeoutInMillis) ?? APIGW_DEFAULT_INTEGRATION_TIMEOUT_MS;
        if (ms > WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS * 1000) problems.push(`TimeoutInMillis ${ms}`);
      }
      const uri = isIntegration ? resource.properties.IntegrationUri : resource.properties.AuthorizerUri;
      for (const fn of functionsIn(uri, view)) {
        if (timeoutOf(fn) > WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS)
          problems.push(`function ${fn.logicalId} runs up to ${timeoutOf(fn)} s`);
      }
      return problems.length === 0
        ? OK
        : fail(
            `${resource.logicalId}: ${problems.join(', ')} (limit ${WEBSOCKET_INTEGRATION_TIMEOUT_SECONDS} s; the client is cut off while the function keeps running)`,
          );
    },
  },
  {
    id: 'SqsMaxConcurrency',
    requires:
      'Every SQS event source mapping sets a maximum concurrency, so a burst on one queue cannot take the account’s concurrency from the others.',
    source: {
      title: 'AWS Lambda Developer Guide: Configuring maximum concurrency for Amazon SQS event sources',
      url: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html',
    },
    check(mapping, view) {
      if (mapping.type !== 'AWS::Lambda::EventSourceMapping' || !sqsSourceOf(mapping, view)) return NA;
      const max = numberOf(objectOf(mapping.properties.ScalingConfig)?.MaximumConcurrency);
      return max !== undefined
        ? OK
        : fail(`mapping ${mapping.logicalId} has no ScalingConfig.MaximumConcurrency`);
    },
  },
  {
    id: 'ConnectReservedConcurrency',
    requires:
      'The functions on the WebSocket $connect path (the route and its authorizer) reserve concurrency, so no burst elsewhere throttles new connections.',
    source: {
      title: 'AWS Lambda Developer Guide: Configuring reserved concurrency for a function',
      url: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html',
    },
    check(fn, view) {
      if (fn.type !== 'AWS::Lambda::Function' || !connectPathFunctionIds(view).has(fn.logicalId)) return NA;
      const reserved = numberOf(fn.properties.ReservedConcurrentExecutions);
      return reserved !== undefined && reserved > 0
        ? OK
        : fail(`function ${fn.logicalId} serves $connect without ReservedConcurrentExecutions`);
    },
  },
  {
    id: 'QueueAlarmed',
    requires:
      'Every dead-letter queue has an alarm on ApproximateNumberOfMessagesVisible and every work queue (read by a function) one on ApproximateAgeOfOldestMessage.',
    source: {
      title: 'Amazon SQS Developer Guide: Creating alarms for dead-letter queues using Amazon CloudWatch',
      url: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/dead-letter-queues-alarms-cloudwatch.html',
    },
    check(queue, view) {
      if (queue.type !== 'AWS::SQS::Queue') return NA;
      const watched = new Set(
        view
          .ofType('AWS::CloudWatch::Alarm')
          .flatMap(sqsMetricsOf)
          .filter(([, id]) => id === queue.logicalId)
          .map(([metric]) => metric),
      );
      const missing: string[] = [];
      if (deadLetterQueueIds(view).has(queue.logicalId) && !watched.has('ApproximateNumberOfMessagesVisible'))
        missing.push('dead-letter queue without an ApproximateNumberOfMessagesVisible alarm');
      if (mappingsReading(queue, view).length > 0 && !watched.has('ApproximateAgeOfOldestMessage'))
        missing.push('work queue without an ApproximateAgeOfOldestMessage alarm');
      return missing.length === 0 ? OK : fail(`queue ${queue.logicalId}: ${missing.join('; ')}`);
    },
  },
  {
    id: 'AlarmAction',
    requires: 'Every alarm has an enabled action (the alarm topic), so somebody is told.',
    source: {
      title: 'AWS Config managed rule cloudwatch-alarm-action-check',
      url: 'https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html',
    },
    check(alarm) {
      if (alarm.type !== 'AWS::CloudWatch::Alarm') return NA;
      const actions = Array.isArray(alarm.properties.AlarmActions) ? alarm.properties.AlarmActions : [];
      if (alarm.properties.ActionsEnabled === false)
        return fail(`alarm ${alarm.logicalId} has its actions disabled`);
      return actions.length > 0 ? OK : fail(`alarm ${alarm.logicalId} has no AlarmActions`);
    },
  },
  {
    id: 'StackScopedNames',
    requires:
      'Every physical name the stack sets derives from the stack name and is unique in the stack, so two stacks can share an account and region.',
    source: {
      title:
        'AWS CloudFormation User Guide: Name type (custom names must be unique; replacement needs a new name)',
      url: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html',
    },
    check(resource, view) {
      const property = NAME_PROPERTY[resource.type];
      if (property === undefined) return NA;
      const name = resource.properties[property];
      if (name === undefined) return NA;
      if (typeof name !== 'string') {
        return usesStackNameToken(name)
          ? OK
          : fail(`${resource.logicalId}.${property} is not derived from the stack name`);
      }
      if (!isStackScopedName(name, view.stack.stackName))
        return fail(`${resource.logicalId}.${property} "${name}" does not contain the stack name`);
      const twins = view
        .ofType(resource.type)
        .filter((other) => other !== resource && other.properties[property] === name);
      return twins.length === 0
        ? OK
        : fail(
            `${resource.logicalId}.${property} "${name}" is also used by ${twins.map((t) => t.logicalId).join(', ')}`,
          );
    },
  },
  {
    id: 'LeastPrivilegeActions',
    requires:
      'No function role allows a wildcard action (service:* or Verb*) or dynamodb:Scan: each grants the verbs its handler calls.',
    source: {
      title: 'IAM User Guide: Security best practices, apply least-privilege permissions',
      url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege',
    },
    check(resource, view) {
      let actions: string[] = [];
      if (resource.type === 'AWS::IAM::Policy') {
        const roles = Array.isArray(resource.properties.Roles) ? resource.properties.Roles : [];
        if (!roles.some((r) => isLambdaRole(view.get(referencedId(r))))) return NA;
        actions = allowedActions(resource.properties.PolicyDocument);
      } else if (resource.type === 'AWS::IAM::Role' && isLambdaRole(resource)) {
        const policies = Array.isArray(resource.properties.Policies) ? resource.properties.Policies : [];
        actions = policies.flatMap((p) => allowedActions(objectOf(p)?.PolicyDocument));
      } else {
        return NA;
      }
      const offending = [...new Set(actions.filter(isOverbroad))];
      return offending.length === 0
        ? OK
        : {
            status: 'findings',
            findings: offending.map((a) => `Action::${a}`),
            detail: `${resource.logicalId} allows ${offending.join(', ')}`,
          };
    },
  },
];
