/**
 * cdk-nag acknowledgments. Each construct acknowledges only the findings its own resources
 * raise, on the narrowest construct (the role, route, queue or secret concerned), with one of
 * the reasons below. docs/deploy.md lists them. cdk-nag 3 reads CDK's `Validations`
 * acknowledgments; one finding id per acknowledgment (e.g. `AwsSolutions-IAM5[Resource::*]`).
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export const NAG_REASONS = {
  xray: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; tracing (Powertools tracer) needs them on "*".',
  listStreams:
    'dynamodb:ListStreams (added by the DynamoDB stream event source) supports no resource-level permission; every stream read action is scoped to the stream ARN.',
  tableIndexes:
    "The table grant covers the table's own global secondary indexes (<table>/index/*): the functions query the topology's indexes of this one table.",
  manageConnections:
    'execute-api:ManageConnections is scoped to this API, stage and method ({api}/live/POST|DELETE/@connections/*); the connection id in the path is only known at run time.',
  nodeRuntime:
    'Node.js 22 is the runtime the project targets and tests (its handlers also run in the offline runtime); the runtime is upgraded deliberately, not by the linter.',
  webSocketRouteAuth:
    'A WebSocket API authorizes once, on $connect (REQUEST authorizer on the token); API Gateway accepts authorizers on $connect only, and every later route runs on that authorized connection.',
  apiGatewayLogsRole:
    'The account-level API Gateway logging role uses the AWS-documented managed policy AmazonAPIGatewayPushToCloudWatchLogs: API Gateway itself creates the log groups of every API in the account.',
  jwtSecretRotation:
    'Rotating the HS256 signing secret invalidates every token in circulation; it is rotated deliberately (docs/deploy.md) or replaced by OIDC mode, whose keys the issuer rotates.',
  webhookApiAuth:
    "The tenant webhook API verifies the bearer JWT in its handler, with the same verifier as the WebSocket authorizer, and scopes every operation to the token's tenant (another tenant's ids answer 404).",
  connectConcurrencyOff:
    'connectReservedConcurrency is 0 by configuration (e.g. an account whose concurrency quota leaves nothing to reserve): the $connect path shares the account pool.',
  deadLetterQueue:
    'This queue is itself a dead-letter queue (Lambda on-failure destination or EventBridge target DLQ); its depth raises an alarm, and a DLQ of a DLQ would only move the problem.',
} as const;

export type NagReason = keyof typeof NAG_REASONS;

/** Acknowledge one cdk-nag finding on one construct. */
export function acknowledge(scope: IConstruct, findingId: string, reason: NagReason): void {
  Validations.of(scope).acknowledge({ id: findingId, reason: NAG_REASONS[reason] });
}

/** `<LogicalId.Arn>` as cdk-nag spells a resource's ARN in a finding id. */
export function nagArnToken(element: IConstruct): string {
  const cfn = element.node.defaultChild ?? element;
  return `<${Stack.of(element).getLogicalId(cfn as CfnElement)}.Arn>`;
}

/** `<LogicalId>` as cdk-nag spells a `Ref`. */
export function nagRefToken(element: IConstruct): string {
  const cfn = element.node.defaultChild ?? element;
  return `<${Stack.of(element).getLogicalId(cfn as CfnElement)}>`;
}
