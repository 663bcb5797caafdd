/**
 * Webhooks: the endpoints table (signing secrets live there, so it is encrypted with a
 * customer-managed key with rotation), the dispatch queue (a bus rule's target) and its DLQ, the
 * delivery queue (one message per event and endpoint; retries by visibility change) and the
 * webhook DLQ, and the dispatcher and delivery functions on them with partial batch responses.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_WEBHOOK_PORTS } from '../src/core/addressPolicy.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../src/core/retrySchedule.js';
import { type CircuitPolicy, RECOMMENDED_CIRCUIT_POLICY } from '../src/core/webhookCircuit.js';
import { WEBHOOK_ROUTING_ATTRIBUTES } from '../src/core/webhookEndpoint.js';
import { CONFIG_ENV } from './config.js';
import {
  addQueueMapping,
  consumedQueueVisibilitySeconds,
  type MappingOverrides,
  queueMappingOf,
} from './eventSourceMappings.js';
import { type FunctionSettings, TopologyFunction, type TopologyResources } from './TopologyFunction.js';
import { createTopologyQueues } from './topologyQueues.js';
import { createTopologyTable } from './topologyTables.js';

export interface WebhooksProps {
  /** The audit table: every delivery attempt is recorded there. */
  readonly auditTable: dynamodb.ITable;
  /** Where dispatch messages that are not valid events are kept, with the reason. */
  readonly quarantineTable: dynamodb.ITable;
  /** Seconds before attempt 1, 2, ... (the first is 0). @default the handlers' default schedule (about a day) */
  readonly retrySchedule?: readonly number[];
  /** Per-endpoint circuit breaker. @default 5 consecutive failures open it for 30 s (doubling, ≤ 15 min) */
  readonly circuit?: CircuitPolicy;
  /** Ports webhook URLs may use. @default [443] */
  readonly allowedPorts?: readonly number[];
  /** @default RemovalPolicy.RETAIN for the endpoints table and its key */
  readonly removalPolicy?: RemovalPolicy;
  /** Log retention, tracing. @default see FunctionSettings */
  readonly functionSettings?: FunctionSettings;
  /** Per-mapping batch sizes. @default the topology's */
  readonly batchSizes?: { readonly webhookDispatcher?: number; readonly webhookDelivery?: number };
  /** Per-mapping maximum concurrency. @default the topology's */
  readonly maxConcurrency?: { readonly webhookDispatcher?: number; readonly webhookDelivery?: number };
  /** Days the delivery queue keeps a message (the retry schedule must fit). @default the topology's */
  readonly deliveryRetentionDays?: number;
}

export class Webhooks extends Construct {
  readonly endpointsTable: dynamodb.Table;
  readonly endpointsKey: kms.Key;
  readonly dispatchQueue: sqs.Queue;
  readonly dispatchDeadLetterQueue: sqs.Queue;
  readonly deliveryQueue: sqs.Queue;
  /** Deliveries given up after the last attempt, with the reason. */
  readonly deadLetterQueue: sqs.Queue;
  readonly dispatcher: TopologyFunction;
  readonly delivery: TopologyFunction;
  readonly dispatcherFunction: lambda.IFunction;
  readonly deliveryFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.endpointsKey = new kms.Key(this, 'EndpointsKey', {
      description: 'outbox-relay: webhook endpoints table (holds the signing secrets)',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.endpointsTable = createTopologyTable(this, 'EndpointsTable', 'webhookEndpoints', {
      removalPolicy,
      encryptionKey: this.endpointsKey,
    });
    const batch = props.batchSizes ?? {};
    const concurrency = props.maxConcurrency ?? {};
    const mappingOverrides = (fn: 'webhookDispatcher' | 'webhookDelivery'): MappingOverrides => ({
      ...(batch[fn] !== undefined ? { batchSize: batch[fn] } : {}),
      ...(concurrency[fn] !== undefined ? { maxConcurrency: concurrency[fn] } : {}),
    });
    const dispatchMapping = queueMappingOf('webhookDispatcher');
    const deliveryMapping = queueMappingOf('webhookDelivery');
    const queues = createTopologyQueues(
      this,
      ['webhookDispatchQueue', 'webhookDispatchDlq', 'webhookDeliveryQueue', 'webhookDlq'],
      {
        webhookDispatchQueue: {
          visibilityTimeoutSeconds: consumedQueueVisibilitySeconds(
            dispatchMapping,
            mappingOverrides('webhookDispatcher'),
          ),
        },
        webhookDeliveryQueue: {
          visibilityTimeoutSeconds: consumedQueueVisibilitySeconds(
            deliveryMapping,
            mappingOverrides('webhookDelivery'),
          ),
          ...(props.deliveryRetentionDays !== undefined
            ? { retentionDays: props.deliveryRetentionDays }
            : {}),
        },
      },
    );
    this.dispatchQueue = queues.webhookDispatchQueue;
    this.dispatchDeadLetterQueue = queues.webhookDispatchDlq;
    this.deliveryQueue = queues.webhookDeliveryQueue;
    this.deadLetterQueue = queues.webhookDlq;

    const resources: TopologyResources = {
      tables: {
        webhookEndpoints: this.endpointsTable,
        audit: props.auditTable,
        quarantine: props.quarantineTable,
      },
      queues,
    };
    this.dispatcher = new TopologyFunction(this, 'Dispatcher', {
      name: 'webhookDispatcher',
      ...props.functionSettings,
      resources,
      // Dispatch routes events; only delivery signs, so only delivery may read the secrets.
      readableAttributes: { webhookEndpoints: WEBHOOK_ROUTING_ATTRIBUTES },
    });
    const circuit = props.circuit ?? RECOMMENDED_CIRCUIT_POLICY;
    this.delivery = new TopologyFunction(this, 'Delivery', {
      name: 'webhookDelivery',
      ...props.functionSettings,
      resources,
      environment: {
        [CONFIG_ENV.webhookRetrySchedule]: (props.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS).join(','),
        [CONFIG_ENV.webhookCircuitFailures]: String(circuit.openAfterFailures),
        [CONFIG_ENV.webhookCircuitCooldownSeconds]: String(circuit.cooldownSeconds),
        [CONFIG_ENV.webhookAllowedPorts]: (props.allowedPorts ?? DEFAULT_WEBHOOK_PORTS).join(','),
      },
    });
    this.dispatcherFunction = this.dispatcher.function;
    this.deliveryFunction = this.delivery.function;

    addQueueMapping(
      this.dispatcherFunction,
      this.dispatchQueue,
      dispatchMapping,
      mappingOverrides('webhookDispatcher'),
    );
    addQueueMapping(
      this.deliveryFunction,
      this.deliveryQueue,
      deliveryMapping,
      mappingOverrides('webhookDelivery'),
    );
  }
}
