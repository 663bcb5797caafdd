/**
 * The WebSocket side: API Gateway WebSocket API with a REQUEST authorizer on `$connect` (token in
 * the query string), every route of `topology.webSocket.routes`, a stage with route throttling and
 * JSON access logs; the connections table; the HS256 secret (Secrets Manager, generated) or OIDC
 * settings; the fan-out queue, its DLQ and the fan-out function. `execute-api:ManageConnections`
 * is granted on this API's stage only, to the functions whose topology entry asks for it.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type FunctionName, topology } from '../src/contract/topology.js';
import { DEFAULT_MAX_EVENTS_PER_FRAME } from '../src/core/fanoutPlan.js';
import { DEFAULT_FANOUT_CHUNK_THRESHOLD } from '../src/core/fanoutSettings.js';
import { DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS } from '../src/core/fanoutSubjects.js';
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from '../src/core/quotas.js';
import { DEFAULT_RESUME_MAX_EVENTS } from '../src/core/resume.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '../src/core/token.js';
import { CONFIG_ENV } from './config.js';
import {
  addQueueMapping,
  consumedQueueVisibilitySeconds,
  type MappingOverrides,
  queueMappingOf,
} from './eventSourceMappings.js';
import { acknowledge } from './nagSuppressions.js';
import { constructId, stackScopedName } from './naming.js';
import { type FunctionSettings, TopologyFunction, type TopologyResources } from './TopologyFunction.js';
import { createTopologyQueues } from './topologyQueues.js';
import { createTopologyTable } from './topologyTables.js';

/** How `$connect` tokens are verified. */
export type WebSocketAuth =
  | { readonly mode: 'hs256' }
  | { readonly mode: 'oidc'; readonly issuer: string; readonly audience: string; readonly jwksUrl?: string };

export interface WebSocketApiProps {
  /** The audit table: resume reads it, fan-out records its summary in it. */
  readonly auditTable: dynamodb.ITable;
  /** The sequences table: subscribe and resume read each channel's epoch from it. */
  readonly sequencesTable: dynamodb.ITable;
  /** The outbox table: connect and disconnect write `connection.opened`/`closed` to it when `connectionEvents` is on. */
  readonly outboxTable: dynamodb.ITable;
  /** Publish `connection.opened`/`connection.closed` events on the tenant's channel `connections`. @default false */
  readonly connectionEvents?: boolean;
  /** Leading part of the API's name, before the stack name. @default none: `<stack>-websocket` */
  readonly namePrefix?: string;
  /** Token verification. @default { mode: 'hs256' } with a generated secret in Secrets Manager */
  readonly auth?: WebSocketAuth;
  /** Origins allowed to connect (checked by the authorizer); empty = any. @default [] */
  readonly allowedOrigins?: readonly string[];
  /** Fan-out coalescing, its batching window and chunking. @default coalesce, 50 events per frame, 1 s window, chunks above 2,000 subscribers */
  readonly fanout?: {
    readonly coalesce?: boolean;
    readonly maxEventsPerFrame?: number;
    readonly chunkThreshold?: number;
    readonly batchingWindowSeconds?: number;
    /** Per-subject audit records for events with at most this many subscribers; 0 = none. @default 100 */
    readonly subjectRecordsMaxSubscribers?: number;
  };
  /** Fan-out messages per batch. @default the topology's */
  readonly fanoutBatchSize?: number;
  /** Fan-out batches at once at most. @default the topology's */
  readonly fanoutMaxConcurrency?: number;
  /**
   * Concurrency reserved for the authorizer and the `$connect` function each, so a burst elsewhere
   * cannot throttle new connections; 0 reserves none. @default the topology's
   */
  readonly connectReservedConcurrency?: number;
  /** More missed events than this on resume → `refresh`. @default 1000 */
  readonly resumeLimit?: number;
  /** Longest token lifetime (`exp - iat`) accepted on `$connect`. @default 86400 (24 h) */
  readonly maxTokenLifetimeSeconds?: number;
  /** Channels one connection may be subscribed to at once. @default 100 */
  readonly maxSubscriptionsPerConnection?: number;
  /** Open connections one tenant may have; 0 = no limit. @default 0 */
  readonly maxConnectionsPerTenant?: number;
  /** @default RemovalPolicy.RETAIN for the connections table and log groups */
  readonly removalPolicy?: RemovalPolicy;
  /** Log retention, tracing. @default see FunctionSettings */
  readonly functionSettings?: FunctionSettings;
  /** Retention of the access log. @default logs.RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Create the account-level CloudWatch role API Gateway needs for access logs
   * (AWS::ApiGateway::Account, one per account and region; retained on deletion).
   * @default true
   */
  readonly createAccountLogRole?: boolean;
}

/** JSON access log line: who, which route, what happened (authorizer and integration errors included). */
const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    connectionId: '$context.connectionId',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    status: '$context.status',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    error: '$context.error.message',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
    integrationLatency: '$context.integrationLatency',
  }),
);

const WS_FUNCTIONS = [
  'wsAuthorizer',
  'wsConnect',
  'wsDisconnect',
  'wsMessage',
  'fanout',
] as const satisfies readonly FunctionName[];
type WebSocketFunctionName = (typeof WS_FUNCTIONS)[number];

/** The function behind `$connect` (with the authorizer, the path every new connection takes). */
function connectRouteFunction(): FunctionName {
  const route = topology.webSocket.routes.find((r) => r.routeKey === '$connect');
  if (!route) throw new Error('topology.webSocket.routes has no $connect route');
  return route.function;
}

export class WebSocketApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly connectionsTable: dynamodb.Table;
  readonly accessLogGroup: logs.LogGroup;
  /** The HS256 signing secret (hs256 mode only). */
  readonly jwtSecret?: secretsmanager.Secret;
  /** The token verifier's settings (also given to the tenant webhook API, which verifies the same tokens). */
  readonly authEnvironment: Readonly<Record<string, string>>;
  readonly fanoutQueue: sqs.Queue;
  readonly fanoutDeadLetterQueue: sqs.Queue;
  readonly handlers: Record<WebSocketFunctionName, TopologyFunction>;
  readonly routes: Record<string, apigwv2.WebSocketRoute>;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const auth = props.auth ?? { mode: 'hs256' };
    const fanout = {
      coalesce: true,
      maxEventsPerFrame: DEFAULT_MAX_EVENTS_PER_FRAME,
      batchingWindowSeconds: 1,
      chunkThreshold: DEFAULT_FANOUT_CHUNK_THRESHOLD,
      subjectRecordsMaxSubscribers: DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS,
      ...props.fanout,
    };

    this.connectionsTable = createTopologyTable(this, 'ConnectionsTable', 'connections', { removalPolicy });
    const fanoutMapping = queueMappingOf('fanout');
    const fanoutOverrides: MappingOverrides = {
      batchingWindowSeconds: fanout.batchingWindowSeconds,
      ...(props.fanoutBatchSize !== undefined ? { batchSize: props.fanoutBatchSize } : {}),
      ...(props.fanoutMaxConcurrency !== undefined ? { maxConcurrency: props.fanoutMaxConcurrency } : {}),
    };
    const queues = createTopologyQueues(this, ['fanoutQueue', 'fanoutDlq'], {
      fanoutQueue: {
        visibilityTimeoutSeconds: consumedQueueVisibilitySeconds(fanoutMapping, fanoutOverrides),
      },
    });
    this.fanoutQueue = queues.fanoutQueue;
    this.fanoutDeadLetterQueue = queues.fanoutDlq;

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      apiName: stackScopedName(Stack.of(this).stackName, 'websocket', { prefix: props.namePrefix }),
      description: 'outbox-relay: live events for authenticated clients',
      routeSelectionExpression: topology.webSocket.routeSelectionExpression,
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: topology.webSocket.stageName,
      autoDeploy: true,
      throttle: {
        rateLimit: topology.webSocket.throttling.rateLimit,
        burstLimit: topology.webSocket.throttling.burstLimit,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
      // Per-route metrics (which route errs or is slow).
      detailedMetricsEnabled: true,
    });
    // Execution logs of errors only (integration and authorizer failures); no request bodies.
    const cfnStage = this.stage.node.defaultChild as apigwv2.CfnStage;
    cfnStage.addPropertyOverride('DefaultRouteSettings.LoggingLevel', 'ERROR');
    cfnStage.addPropertyOverride('DefaultRouteSettings.DataTraceEnabled', false);
    if (props.createAccountLogRole ?? true) this.addAccountLogRole();

    const resources: TopologyResources = {
      tables: {
        connections: this.connectionsTable,
        audit: props.auditTable,
        sequences: props.sequencesTable,
        outbox: props.outboxTable,
      },
      queues,
      webSocketStage: this.stage,
    };
    const settings = { ...props.functionSettings };
    const connectPath = new Set<FunctionName>([topology.webSocket.authorizer, connectRouteFunction()]);
    const make = (name: WebSocketFunctionName, environment: Record<string, string> = {}) =>
      new TopologyFunction(this, constructId(name), {
        name,
        ...settings,
        resources,
        environment,
        ...(connectPath.has(name) && props.connectReservedConcurrency !== undefined
          ? { reservedConcurrency: props.connectReservedConcurrency }
          : {}),
      });

    let authEnvironment: Record<string, string>;
    if (auth.mode === 'hs256') {
      this.jwtSecret = new secretsmanager.Secret(this, 'JwtSecret', {
        description: 'outbox-relay: HS256 secret that signs WebSocket connection tokens',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy,
      });
      acknowledge(this.jwtSecret, 'AwsSolutions-SMG4', 'jwtSecretRotation');
      authEnvironment = { [CONFIG_ENV.jwtSecretArn]: this.jwtSecret.secretArn };
    } else {
      authEnvironment = {
        [CONFIG_ENV.jwtIssuer]: auth.issuer,
        [CONFIG_ENV.jwtAudience]: auth.audience,
        [CONFIG_ENV.jwksUrl]: auth.jwksUrl ?? `${auth.issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
      };
    }
    // Every verifier of these tokens (the authorizer, the tenant webhook API) caps their lifetime alike.
    authEnvironment[CONFIG_ENV.maxTokenLifetimeSeconds] = String(
      props.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    );
    this.authEnvironment = authEnvironment;
    const allowedOrigins = (props.allowedOrigins ?? []).join(',');
    const handlers: Record<WebSocketFunctionName, TopologyFunction> = {
      wsAuthorizer: make('wsAuthorizer', {
        ...authEnvironment,
        [CONFIG_ENV.allowedOrigins]: allowedOrigins,
      }),
      wsConnect: make('wsConnect', {
        [CONFIG_ENV.connectionEvents]: String(props.connectionEvents ?? false),
        [CONFIG_ENV.connectionsPerTenant]: String(props.maxConnectionsPerTenant ?? 0),
      }),
      wsDisconnect: make('wsDisconnect', {
        [CONFIG_ENV.connectionEvents]: String(props.connectionEvents ?? false),
      }),
      wsMessage: make('wsMessage', {
        [CONFIG_ENV.resumeMaxEvents]: String(props.resumeLimit ?? DEFAULT_RESUME_MAX_EVENTS),
        [CONFIG_ENV.fanoutMaxEventsPerFrame]: String(fanout.maxEventsPerFrame),
        [CONFIG_ENV.subscriptionsPerConnection]: String(
          props.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
        ),
      }),
      fanout: make('fanout', {
        [CONFIG_ENV.fanoutCoalesce]: String(fanout.coalesce),
        [CONFIG_ENV.fanoutMaxEventsPerFrame]: String(fanout.maxEventsPerFrame),
        [CONFIG_ENV.fanoutChunkThreshold]: String(fanout.chunkThreshold),
        [CONFIG_ENV.fanoutSubjectRecordsMax]: String(fanout.subjectRecordsMaxSubscribers),
      }),
    };
    this.handlers = handlers;
    if (props.connectReservedConcurrency === 0) {
      for (const name of connectPath) {
        const handler = handlers[name as WebSocketFunctionName];
        if (handler)
          acknowledge(handler.function, 'OutboxRelay-ConnectReservedConcurrency', 'connectConcurrencyOff');
      }
    }
    // Only the authorizer reads the signing secret.
    this.jwtSecret?.grantRead(handlers.wsAuthorizer.function);

    addQueueMapping(handlers.fanout.function, this.fanoutQueue, fanoutMapping, fanoutOverrides);

    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', handlers.wsAuthorizer.function, {
      identitySource: ['route.request.querystring.token'],
    });
    const integrations = new Map<FunctionName, WebSocketLambdaIntegration>();
    const integrationFor = (name: FunctionName, fn: lambda.IFunction): WebSocketLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(`${constructId(name)}Integration`, fn);
        integrations.set(name, integration);
      }
      return integration;
    };
    const routes: Record<string, apigwv2.WebSocketRoute> = {};
    for (const route of topology.webSocket.routes) {
      const handler = handlers[route.function as WebSocketFunctionName];
      if (!handler)
        throw new Error(
          `WebSocket route ${route.routeKey}: function ${route.function} is not a WebSocket function`,
        );
      const isConnect = route.routeKey === '$connect';
      const added = this.api.addRoute(route.routeKey, {
        integration: integrationFor(route.function, handler.function),
        ...(isConnect ? { authorizer } : {}),
      });
      if (!isConnect) acknowledge(added, 'AwsSolutions-APIG4', 'webSocketRouteAuth');
      routes[route.routeKey] = added;
    }
    this.routes = routes;
  }

  /** `wss://…/live`: where clients connect. */
  get url(): string {
    return this.stage.url;
  }

  /** `https://…/live`: the `@connections` management endpoint. */
  get managementEndpoint(): string {
    return this.stage.callbackUrl;
  }

  private addAccountLogRole(): void {
    const role = new iam.Role(this, 'ApiGatewayLogsRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway (account-wide): write access and execution logs to CloudWatch Logs',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    // Other APIs in the account rely on this setting once it exists: keep it when the stack goes.
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'apiGatewayLogsRole',
    );
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.stage.node.addDependency(account);
  }
}
