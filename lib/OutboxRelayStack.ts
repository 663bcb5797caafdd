/**
 * The whole pipeline in one stack: outbox table → publisher → event bus → audit, WebSocket
 * fan-out and webhooks, plus monitoring. Options are validated at synth (lib/config.ts). Outputs
 * are named after the handlers' environment variables in PascalCase (`OUTBOX_TABLE` →
 * `OutboxTable`) so the CLI and the end-to-end suite can target a deployed stack.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EXTRA_OUTPUTS, outputNameForEnv } from '../src/contract/outputNames.js';
import { type FunctionName, type QueueName, type TableName, topology } from '../src/contract/topology.js';
import { TRACKED_TABLES_ENV } from '../src/core/trackedTables.js';
import { AuditLog } from './AuditLog.js';
import { CONFIG_ENV, type OutboxRelayConfig, type OutboxRelayOptions, resolveConfig } from './config.js';
import { EventBus } from './EventBus.js';
import { Monitoring } from './Monitoring.js';
import { scheduledRetrySpanSeconds } from './nag/invariants.js';
import { OutboxPublisher } from './OutboxPublisher.js';
import { OutboxTable } from './OutboxTable.js';
import { Quarantine } from './Quarantine.js';
import { Sequences } from './Sequences.js';
import type { FunctionSettings } from './TopologyFunction.js';
import { Webhooks } from './Webhooks.js';
import { WebhooksApi } from './WebhooksApi.js';
import { WebSocketApi } from './WebSocketApi.js';

export interface OutboxRelayStackProps extends StackProps {
  /**
   * The stack's options; they win over CDK context (`outboxRelay` in cdk.json, `-c outboxRelay.<option>=...`).
   * @default everything from context, then the defaults in lib/config.ts
   */
  readonly options?: OutboxRelayOptions;
}

export class OutboxRelayStack extends Stack {
  readonly config: OutboxRelayConfig;
  readonly outbox: OutboxTable;
  readonly quarantine: Quarantine;
  readonly sequences: Sequences;
  readonly auditLog: AuditLog;
  readonly webSocket: WebSocketApi;
  readonly webhooks: Webhooks;
  /** The tenant webhook API (HTTP API). */
  readonly webhooksApi: WebhooksApi;
  readonly eventBus: EventBus;
  readonly publisher: OutboxPublisher;
  readonly monitoring: Monitoring;
  /** Every function by topology name. */
  readonly functions: Record<FunctionName, lambda.IFunction>;
  /** Every queue by topology name. */
  readonly queues: Record<QueueName, sqs.IQueue>;

  constructor(scope: Construct, id: string, props: OutboxRelayStackProps = {}) {
    super(scope, id, {
      description:
        'outbox-relay: DynamoDB outbox → EventBridge → WebSocket fan-out, signed webhooks and an audit log',
      ...props,
    });
    const config = resolveConfig({
      ...(props.options ? { props: props.options } : {}),
      context: (key) => this.node.tryGetContext(key),
    });
    this.config = config;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const functionSettings: FunctionSettings = {
      logRetention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy,
      tracing: config.tracing,
      xraySdk: config.xraySdk,
      sourceMap: config.sourceMaps,
    };
    const batch = config.batchSizes;
    const concurrency = config.maxConcurrency;

    this.outbox = new OutboxTable(this, 'Outbox', { removalPolicy, trackedTables: config.trackedTables });
    this.quarantine = new Quarantine(this, 'Quarantine', { removalPolicy });
    const quarantineTable = this.quarantine.table;
    this.sequences = new Sequences(this, 'Sequences', { removalPolicy });
    this.auditLog = new AuditLog(this, 'AuditLog', {
      quarantineTable,
      removalPolicy,
      functionSettings,
      ...(batch.audit !== undefined ? { batchSize: batch.audit } : {}),
      ...(concurrency.audit !== undefined ? { maxConcurrency: concurrency.audit } : {}),
    });
    this.webSocket = new WebSocketApi(this, 'WebSocket', {
      auditTable: this.auditLog.table,
      sequencesTable: this.sequences.table,
      namePrefix: config.namePrefix,
      auth: config.auth,
      allowedOrigins: config.allowedOrigins,
      fanout: config.fanout,
      ...(batch.fanout !== undefined ? { fanoutBatchSize: batch.fanout } : {}),
      ...(concurrency.fanout !== undefined ? { fanoutMaxConcurrency: concurrency.fanout } : {}),
      connectReservedConcurrency: config.connectReservedConcurrency,
      resumeLimit: config.resumeLimit,
      maxTokenLifetimeSeconds: config.auth.maxTokenLifetimeSeconds,
      maxSubscriptionsPerConnection: config.quotas.subscriptionsPerConnection,
      maxConnectionsPerTenant: config.quotas.connectionsPerTenant,
      removalPolicy,
      functionSettings,
      accessLogRetention: config.logRetentionDays as logs.RetentionDays,
      createAccountLogRole: config.apiGatewayAccountRole,
    });
    this.webhooks = new Webhooks(this, 'Webhooks', {
      auditTable: this.auditLog.table,
      quarantineTable,
      retrySchedule: config.webhookRetrySchedule,
      circuit: config.webhookCircuit,
      allowedPorts: config.webhookAllowedPorts,
      removalPolicy,
      functionSettings,
      batchSizes: {
        ...(batch.webhookDispatcher !== undefined ? { webhookDispatcher: batch.webhookDispatcher } : {}),
        ...(batch.webhookDelivery !== undefined ? { webhookDelivery: batch.webhookDelivery } : {}),
      },
      maxConcurrency: {
        ...(concurrency.webhookDispatcher !== undefined
          ? { webhookDispatcher: concurrency.webhookDispatcher }
          : {}),
        ...(concurrency.webhookDelivery !== undefined
          ? { webhookDelivery: concurrency.webhookDelivery }
          : {}),
      },
      deliveryRetentionDays: config.webhookDeliveryRetentionDays,
    });
    this.webhooksApi = new WebhooksApi(this, 'WebhooksApi', {
      endpointsTable: this.webhooks.endpointsTable,
      auditTable: this.auditLog.table,
      deliveryQueue: this.webhooks.deliveryQueue,
      authEnvironment: this.webSocket.authEnvironment,
      allowedPorts: config.webhookAllowedPorts,
      ...(this.webSocket.jwtSecret ? { jwtSecret: this.webSocket.jwtSecret } : {}),
      namePrefix: config.namePrefix,
      accessLogRetention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy,
      functionSettings,
    });
    this.eventBus = new EventBus(this, 'EventBus', {
      namePrefix: config.namePrefix,
      archiveRetentionDays: config.archiveRetentionDays,
      targetQueues: {
        auditQueue: this.auditLog.queue,
        fanoutQueue: this.webSocket.fanoutQueue,
        webhookDispatchQueue: this.webhooks.dispatchQueue,
      },
    });
    this.publisher = new OutboxPublisher(this, 'Publisher', {
      outbox: this.outbox,
      quarantineTable,
      sequencesTable: this.sequences.table,
      eventBus: this.eventBus.bus,
      removalPolicy,
      functionSettings,
      ...(batch.publisher !== undefined ? { batchSize: batch.publisher } : {}),
    });

    const ws = this.webSocket.handlers;
    this.functions = {
      publisher: this.publisher.function,
      audit: this.auditLog.function,
      wsAuthorizer: ws.wsAuthorizer.function,
      wsConnect: ws.wsConnect.function,
      wsDisconnect: ws.wsDisconnect.function,
      wsMessage: ws.wsMessage.function,
      fanout: ws.fanout.function,
      webhookDispatcher: this.webhooks.dispatcherFunction,
      webhookDelivery: this.webhooks.deliveryFunction,
      webhookApi: this.webhooksApi.handler.function,
    } satisfies Record<FunctionName, lambda.IFunction>;
    this.queues = {
      publisherDlq: this.publisher.deadLetterQueue,
      auditQueue: this.auditLog.queue,
      auditDlq: this.auditLog.deadLetterQueue,
      fanoutQueue: this.webSocket.fanoutQueue,
      fanoutDlq: this.webSocket.fanoutDeadLetterQueue,
      webhookDispatchQueue: this.webhooks.dispatchQueue,
      webhookDispatchDlq: this.webhooks.dispatchDeadLetterQueue,
      webhookDeliveryQueue: this.webhooks.deliveryQueue,
      webhookDlq: this.webhooks.deadLetterQueue,
      busTargetDlq: this.eventBus.targetDeadLetterQueue,
    } satisfies Record<QueueName, sqs.IQueue>;

    this.monitoring = new Monitoring(this, 'Monitoring', {
      namePrefix: config.namePrefix,
      functions: this.functions,
      queues: this.queues,
      eventBus: this.eventBus.bus,
      rules: this.eventBus.rules,
      webSocketStage: this.webSocket.stage,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
      removalPolicy,
      thresholds: {
        // Messages legitimately wait there for their scheduled retries.
        queueAgeSecondsByQueue: {
          webhookDeliveryQueue: scheduledRetrySpanSeconds(
            config.webhookRetrySchedule,
            topology.queues.webhookDeliveryQueue.visibilityTimeoutSeconds,
          ),
        },
      },
    });

    this.addOutputs();
  }

  private addOutputs(): void {
    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    const tables: Record<TableName, string> = {
      outbox: this.outbox.table.tableName,
      audit: this.auditLog.table.tableName,
      quarantine: this.quarantine.table.tableName,
      sequences: this.sequences.table.tableName,
      connections: this.webSocket.connectionsTable.tableName,
      webhookEndpoints: this.webhooks.endpointsTable.tableName,
    };
    for (const [name, tableName] of Object.entries(tables) as [TableName, string][]) {
      const env = topology.tables[name].env;
      output(outputNameForEnv(env), tableName, `${env}: the ${name} table`);
    }
    for (const [name, queue] of Object.entries(this.queues) as [QueueName, sqs.IQueue][]) {
      const env = topology.queues[name].env;
      output(outputNameForEnv(env), queue.queueUrl, `${env}: the ${name} queue`);
    }
    output(
      outputNameForEnv(topology.bus.env),
      this.eventBus.bus.eventBusName,
      `${topology.bus.env}: the event bus`,
    );
    output(EXTRA_OUTPUTS.eventBusArn, this.eventBus.bus.eventBusArn, 'The event bus ARN');
    output(EXTRA_OUTPUTS.eventBusArchiveName, this.eventBus.archive.archiveName, 'The bus archive (replay)');
    output(
      EXTRA_OUTPUTS.webSocketUrl,
      this.webSocket.url,
      'WebSocket URL clients connect to (add ?token=...)',
    );
    const management = this.webSocket.managementEndpoint;
    output(EXTRA_OUTPUTS.webSocketManagementEndpoint, management, 'The @connections management endpoint');
    const managementEnv = topology.webSocket.managementEndpointEnv;
    if (outputNameForEnv(managementEnv) !== EXTRA_OUTPUTS.webSocketManagementEndpoint) {
      output(
        outputNameForEnv(managementEnv),
        management,
        `${managementEnv}: the @connections management endpoint`,
      );
    }
    if (this.webSocket.jwtSecret) {
      output(
        outputNameForEnv(CONFIG_ENV.jwtSecretArn),
        this.webSocket.jwtSecret.secretArn,
        `${CONFIG_ENV.jwtSecretArn}: HS256 token secret`,
      );
    }
    if (this.config.trackedTables.length > 0) {
      output(
        outputNameForEnv(TRACKED_TABLES_ENV),
        this.outbox.trackedTablesJson,
        `${TRACKED_TABLES_ENV}: tracked-table mappings`,
      );
    }
    output(
      EXTRA_OUTPUTS.webhooksApiUrl,
      this.webhooksApi.url,
      'Tenant webhook API base URL (routes under /webhooks)',
    );
    output(EXTRA_OUTPUTS.dashboardName, this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    output(EXTRA_OUTPUTS.alarmTopicArn, this.monitoring.alarmTopic.topicArn, 'SNS topic of every alarm');
  }
}
