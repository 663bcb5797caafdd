/**
 * The whole pipeline (the `OutboxRelay` construct) in one stack: outbox table → publisher → event bus → audit, WebSocket
 * fan-out and webhooks, plus monitoring. Options are validated at synth (lib/config.ts). Outputs
 * are named after the handlers' environment variables in PascalCase (`OUTBOX_TABLE` →
 * `OutboxTable`) so the CLI and the end-to-end suite can target a deployed stack.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EXTRA_OUTPUTS, outputNameForEnv } from '../src/contract/outputNames.js';
import { type FunctionName, type QueueName, type TableName, topology } from '../src/contract/topology.js';
import { TRACKED_TABLES_ENV } from '../src/core/trackedTables.js';
import type { AuditLog } from './AuditLog.js';
import { CONFIG_ENV, type OutboxRelayConfig, type OutboxRelayOptions } from './config.js';
import type { EventBus } from './EventBus.js';
import type { Monitoring } from './Monitoring.js';
import type { OutboxPublisher } from './OutboxPublisher.js';
import { OutboxRelay } from './OutboxRelay.js';
import type { OutboxTable } from './OutboxTable.js';
import type { Quarantine } from './Quarantine.js';
import type { Sequences } from './Sequences.js';
import type { Webhooks } from './Webhooks.js';
import type { WebhooksApi } from './WebhooksApi.js';
import type { WebSocketApi } from './WebSocketApi.js';

export interface OutboxRelayStackProps extends StackProps {
  /**
   * The stack's options; they win over CDK context (`outboxRelay` in cdk.json, `-c outboxRelay.<option>=...`).
   * @default everything from context, then the defaults in lib/config.ts
   */
  readonly options?: OutboxRelayOptions;
}

export class OutboxRelayStack extends Stack {
  /** The pipeline; the fields below are its parts, kept here for existing users of the stack. */
  readonly relay: OutboxRelay;
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
    // Id "Default" is left out of logical ids: the stack's resources keep the ids they had
    // before the pipeline became a construct (no replacement of tables on update).
    const relay = new OutboxRelay(this, 'Default', props.options ? { options: props.options } : {});
    this.relay = relay;
    this.config = relay.config;
    this.outbox = relay.outbox;
    this.quarantine = relay.quarantine;
    this.sequences = relay.sequences;
    this.auditLog = relay.auditLog;
    this.webSocket = relay.webSocket;
    this.webhooks = relay.webhooks;
    this.webhooksApi = relay.webhooksApi;
    this.eventBus = relay.eventBus;
    this.publisher = relay.publisher;
    this.monitoring = relay.monitoring;
    this.functions = relay.functions;
    this.queues = relay.queues;

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
