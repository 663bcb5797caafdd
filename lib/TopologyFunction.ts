/**
 * One Lambda function as `topology.functions[name]` describes it: Node 22 on arm64, bundled with
 * esbuild from the topology's entry, its own log group (with retention) and role (no managed
 * policies: it may write to its own log group only), and exactly the environment variables and
 * grants its topology entry lists: tables (read/write/readWrite, never `Scan`), queues
 * (send/consume), `PutEvents` on the bus, `execute-api:ManageConnections` on this API's stage for
 * the `@connections` methods the handlers call. Reserved concurrency where the topology (or the
 * stack's options) set it.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type FunctionDef,
  type FunctionName,
  type QueueName,
  type TableDef,
  type TableName,
  topology,
} from '../src/contract/topology.js';
import { METRIC_SERVICE, METRICS_NAMESPACE } from '../src/core/metricNames.js';
import { type BundleSettings, esbuildSettings } from './bundling.js';
import { grantManageConnections, grantTable, MANAGEMENT_API_METHODS } from './grants.js';
import { HANDLER_BUNDLE_FILE, prebuiltHandlerDir } from './handlerBundle.js';
import { acknowledge, nagArnToken, nagRefToken } from './nagSuppressions.js';

/** Repository root: topology entries are relative to it. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The resources a function's topology entry may name; a construct passes what it has. */
export interface TopologyResources {
  readonly tables?: Partial<Record<TableName, dynamodb.ITable>>;
  readonly queues?: Partial<Record<QueueName, sqs.IQueue>>;
  readonly eventBus?: events.IEventBus;
  /** The WebSocket stage whose `@connections` API the function may call. */
  readonly webSocketStage?: apigwv2.WebSocketStage;
}

/** Settings every function shares (from the stack's configuration). */
export interface FunctionSettings {
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** X-Ray active tracing. @default true */
  readonly tracing?: boolean;
  /**
   * Bundle the Powertools tracer (X-Ray SDK) for handler and call subsegments; only with `tracing`.
   * @default false
   */
  readonly xraySdk?: boolean;
  /** Ship a source map in the zip (and run with `--enable-source-maps`). @default false */
  readonly sourceMap?: boolean;
}

export interface TopologyFunctionProps extends FunctionSettings {
  /** The function's key in `topology.functions`. */
  readonly name: FunctionName;
  readonly resources: TopologyResources;
  /** Extra environment variables (configuration), on top of the topology's. @default none */
  readonly environment?: Record<string, string>;
  /** Reserved concurrent executions; 0 = none. @default the topology's `reservedConcurrency` (none if unset) */
  readonly reservedConcurrency?: number;
  /** Per table, the only attributes a read may return (read-only access). @default every attribute */
  readonly readableAttributes?: Partial<Record<TableName, readonly string[]>>;
}

/** Bundle as lib/bundling.ts says (ESM for Node 22, `require` shim, the runtime provides SDK v3). */
function bundlingOptions(settings: BundleSettings): nodejs.BundlingOptions {
  const esbuild = esbuildSettings(settings);
  return {
    format: nodejs.OutputFormat.ESM,
    target: esbuild.target,
    minify: esbuild.minify,
    sourceMap: esbuild.sourcemap,
    sourcesContent: esbuild.sourcesContent,
    mainFields: esbuild.mainFields,
    banner: esbuild.banner,
    externalModules: esbuild.external,
    define: esbuild.define,
    logLevel: nodejs.LogLevel.WARNING,
  };
}

export class TopologyFunction extends Construct {
  /** A NodejsFunction inside this repository; a plain Function over the prebuilt bundle when installed. */
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly definition: FunctionDef;

  constructor(scope: Construct, id: string, props: TopologyFunctionProps) {
    super(scope, id);
    const def: FunctionDef = topology.functions[props.name];
    this.definition = def;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const reservedConcurrency = props.reservedConcurrency ?? def.reservedConcurrency ?? 0;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    // Own role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `outbox-relay ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    const bundle: BundleSettings = {
      xraySdk: props.tracing !== false && props.xraySdk === true,
      sourceMap: props.sourceMap === true,
    };
    const environment: Record<string, string> = {
      ...(bundle.sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      POWERTOOLS_SERVICE_NAME: METRIC_SERVICE[props.name],
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // Without active tracing there is no segment to add to: do not load the X-Ray SDK at all.
      ...(props.tracing === false ? { POWERTOOLS_TRACE_ENABLED: 'false' } : {}),
      ...props.environment,
    };

    const prebuilt = prebuiltHandlerDir(props.name, bundle);
    const functionProps: lambda.FunctionOptions & { runtime: lambda.Runtime } = {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: def.memoryMb,
      timeout: Duration.seconds(def.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      environment,
      ...(reservedConcurrency > 0 ? { reservedConcurrentExecutions: reservedConcurrency } : {}),
    };
    // Installed package: deploy the bundle `npm run build` made (no esbuild, no sources needed).
    this.function = prebuilt
      ? new lambda.Function(this, 'Function', {
          ...functionProps,
          code: lambda.Code.fromAsset(prebuilt),
          handler: `${HANDLER_BUNDLE_FILE.replace(/\.mjs$/, '')}.handler`,
        })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...functionProps,
          entry: path.join(REPOSITORY_ROOT, def.entry),
          handler: 'handler',
          projectRoot: REPOSITORY_ROOT,
          depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json'),
          bundling: bundlingOptions(bundle),
        });

    this.applyTopology(props.name, def, props.resources, props.readableAttributes ?? {});
    acknowledge(this.function, 'AwsSolutions-L1', 'nodeRuntime');
    if (props.tracing !== false) acknowledge(this.role, 'AwsSolutions-IAM5[Resource::*]', 'xray');
  }

  private applyTopology(
    name: FunctionName,
    def: FunctionDef,
    resources: TopologyResources,
    readableAttributes: Partial<Record<TableName, readonly string[]>>,
  ): void {
    const fn = this.function;
    for (const { table: tableName, access } of def.tables) {
      const table = resources.tables?.[tableName as TableName];
      if (!table)
        throw new Error(`Function ${name} needs table ${tableName}, which its construct did not provide`);
      fn.addEnvironment(topology.tables[tableName as TableName].env, table.tableName);
      const hasIndexes = ((topology.tables[tableName as TableName] as TableDef).indexes?.length ?? 0) > 0;
      const attributes = readableAttributes[tableName as TableName];
      grantTable(fn, table, access, {
        hasIndexes,
        ...(attributes ? { readableAttributes: attributes } : {}),
      });
      if (hasIndexes && access !== 'write' && table.node.defaultChild) {
        acknowledge(this.role, `AwsSolutions-IAM5[Resource::${nagArnToken(table)}/index/*]`, 'tableIndexes');
      }
    }
    for (const { queue: queueName, access } of def.queues) {
      const queue = resources.queues?.[queueName as QueueName];
      if (!queue)
        throw new Error(`Function ${name} needs queue ${queueName}, which its construct did not provide`);
      fn.addEnvironment(topology.queues[queueName as QueueName].env, queue.queueUrl);
      if (access === 'send' || access === 'sendConsume') queue.grantSendMessages(fn);
      if (access === 'consume' || access === 'sendConsume') queue.grantConsumeMessages(fn);
    }
    if (def.putsEvents) {
      if (!resources.eventBus) throw new Error(`Function ${name} puts events but no event bus was provided`);
      fn.addEnvironment(topology.bus.env, resources.eventBus.eventBusName);
      resources.eventBus.grantPutEventsTo(fn);
    }
    if (def.managesConnections) {
      const stage = resources.webSocketStage;
      if (!stage) throw new Error(`Function ${name} manages connections but no WebSocket stage was provided`);
      fn.addEnvironment(topology.webSocket.managementEndpointEnv, stage.callbackUrl);
      // Scoped to this API, stage and the methods used: {apiId}/{stage}/{POST|DELETE}/@connections/*
      grantManageConnections(fn, stage);
      for (const method of MANAGEMENT_API_METHODS) {
        acknowledge(
          this.role,
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${nagRefToken(stage.api)}/${stage.stageName}/${method}/@connections/*]`,
          'manageConnections',
        );
      }
    }
  }
}
