/**
 * The tenant webhook API (docs/webhooks-api.yaml): an API Gateway HTTP API with one proxy route,
 * `ANY /webhooks/{proxy+}`, to the `webhookApi` function, which verifies the same JWTs as the
 * WebSocket API (the `authEnvironment` passed in) and scopes every operation to the token's
 * tenant. Throttled and access-logged on its default stage.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_WEBHOOK_PORTS } from '../src/core/addressPolicy.js';
import { CONFIG_ENV } from './config.js';
import { acknowledge } from './nagSuppressions.js';
import { stackScopedName } from './naming.js';
import { type FunctionSettings, TopologyFunction } from './TopologyFunction.js';

export interface WebhooksApiProps {
  readonly endpointsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  readonly deliveryQueue: sqs.IQueue;
  /** Token verification settings (JWT_SECRET_ARN, or the OIDC issuer's), as the WebSocket authorizer has them. */
  readonly authEnvironment: Readonly<Record<string, string>>;
  /** The HS256 secret to grant read access to (hs256 mode). */
  readonly jwtSecret?: secretsmanager.ISecret;
  /** Ports webhook URLs may use, checked when endpoints are registered. @default [443] */
  readonly allowedPorts?: readonly number[];
  /** Steady-state requests per second and burst of the stage. @default 50 / 100 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly namePrefix?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  readonly functionSettings?: FunctionSettings;
}

export class WebhooksApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly handler: TopologyFunction;
  readonly accessLogGroup: logs.LogGroup;
  /** `https://{api}.execute-api.{region}.amazonaws.com` (routes start with `/webhooks`). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebhooksApiProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.handler = new TopologyFunction(this, 'Handler', {
      name: 'webhookApi',
      ...props.functionSettings,
      resources: {
        tables: { webhookEndpoints: props.endpointsTable, audit: props.auditTable },
        queues: { webhookDeliveryQueue: props.deliveryQueue },
      },
      environment: {
        ...props.authEnvironment,
        [CONFIG_ENV.webhookAllowedPorts]: (props.allowedPorts ?? DEFAULT_WEBHOOK_PORTS).join(','),
      },
    });
    props.jwtSecret?.grantRead(this.handler.function);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: stackScopedName(Stack.of(this).stackName, 'webhooks', { prefix: props.namePrefix }),
      description: 'outbox-relay: tenant webhook API (endpoints, attempts, recover, resend, test)',
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: '/webhooks/{proxy+}',
      methods: [apigwv2.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Handler', this.handler.function),
    });
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    const stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
    });
    (stage.node.defaultChild as apigwv2.CfnStage).accessLogSettings = {
      destinationArn: this.accessLogGroup.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        requestTime: '$context.requestTime',
        sourceIp: '$context.identity.sourceIp',
        error: '$context.error.message',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    this.url = this.api.apiEndpoint;
    for (const route of this.api.node.findAll()) {
      if (route instanceof apigwv2.HttpRoute) acknowledge(route, 'AwsSolutions-APIG4', 'webhookApiAuth');
    }
  }
}
