/**
 * The whole pipeline as one construct, for any CDK v2 app: outbox table → publisher → event bus →
 * audit, WebSocket fan-out and webhooks, plus monitoring. Options are validated at synth
 * (`./config.ts`); props win over CDK context (`outboxRelay` in cdk.json). Its resources are
 * exposed read-only; the cdk-nag acknowledgments it adds are scoped to its own resources.
 *
 * @example
 * import { OutboxRelay } from 'outbox-relay';
 * const relay = new OutboxRelay(this, 'Relay', { options: { namePrefix: 'shop' } });
 * myFunction.addEnvironment('OUTBOX_TABLE', relay.outbox.table.tableName);
 * relay.outbox.table.grantWriteData(myFunction);
 *
 * // Bring your own outbox table (with a stream of new images) and event bus:
 * new OutboxRelay(this, 'Relay', { existingOutboxTable: ordersOutbox, existingEventBus: bus });
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type FunctionName, type QueueName, topology } from '../src/contract/topology.js';
import { AuditLog } from './AuditLog.js';
import { type OutboxRelayConfig, type OutboxRelayOptions, resolveConfig } from './config.js';
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

export interface OutboxRelayProps {
  /**
   * The options (see `OutboxRelayOptions` for each one's default); they win over CDK context
   * (`outboxRelay` in cdk.json, `-c outboxRelay.<option>=...`).
   * @default everything from context, then the defaults in `config.ts`
   */
  readonly options?: OutboxRelayOptions;
  /**
   * Your outbox table, instead of a new one (Solutions Constructs' `existing…` convention): the
   * publisher reads its stream and the functions are granted on it. It needs a stream with new
   * images, string keys `pk` and `sk`, and TTL on `expiresAt`; import one with its stream ARN
   * (`Table.fromTableAttributes({ tableName, tableStreamArn })`). A table without a stream is
   * refused at synth (`ExistingResourceError`).
   * @default a new table with the topology's keys, stream, TTL, PITR and deletion protection
   */
  readonly existingOutboxTable?: dynamodb.ITable;
  /**
   * Your event bus, instead of a new one: the routing rules, an archive of this pipeline's events
   * and the publisher's `events:PutEvents` grant go on it; nothing else on the bus is touched.
   * @default a new bus named `<namePrefix->stack-bus`
   */
  readonly existingEventBus?: events.IEventBus;
}

export class OutboxRelay extends Construct {
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

  constructor(scope: Construct, id: string, props: OutboxRelayProps = {}) {
    super(scope, id);
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

    this.outbox = new OutboxTable(this, 'Outbox', {
      removalPolicy,
      trackedTables: config.trackedTables,
      ...(props.existingOutboxTable ? { existingTable: props.existingOutboxTable } : {}),
    });
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
      outboxTable: this.outbox.table,
      connectionEvents: config.connectionEvents,
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
      ...(props.existingEventBus ? { existingBus: props.existingEventBus } : {}),
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
  }
}
