/**
 * The one topology definition: tables, queues, functions, event source mappings, bus rules and
 * WebSocket routes. Read by the CDK constructs in `lib/` and by the offline runtime in `local/`,
 * so the two cannot drift; `test/constructs/topology.test.ts` compares the synthesized template
 * with it. Plain data: no CDK or SDK imports here.
 */
import { EVENT_SOURCE } from '../core/envelope.js';

export type AttributeType = 'S' | 'N';

export interface KeyDef {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDef {
  readonly name: string;
  readonly partitionKey: KeyDef;
  readonly sortKey?: KeyDef;
  /**
   * Attributes copied into the index: only the keys, or the keys and `include`, when its readers
   * need no more (smaller index writes and storage). @default 'ALL'
   */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

export interface TableDef {
  /** Environment variable through which handlers learn the table's name. */
  readonly env: string;
  readonly partitionKey: KeyDef;
  readonly sortKey?: KeyDef;
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES';
  readonly ttlAttribute?: string;
  readonly indexes?: readonly IndexDef[];
}

export interface QueueDef {
  /** Environment variable through which handlers learn the queue's URL. */
  readonly env: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionDays: number;
  /** Dead-letter queue (a key of `topology.queues`) and the receive count that moves a message there. */
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number };
}

export interface FunctionDef {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  /**
   * Concurrency set aside for this function alone (the `$connect` path: a burst elsewhere must not
   * throttle new connections). The stack option `connectReservedConcurrency` overrides it.
   */
  readonly reservedConcurrency?: number;
  readonly memoryMb: number;
  /** Tables the function reads or writes (the construct grants access and sets the env var). */
  readonly tables: readonly { readonly table: string; readonly access: 'read' | 'write' | 'readWrite' }[];
  /** Queues the function sends to / consumes from. */
  readonly queues: readonly { readonly queue: string; readonly access: 'send' | 'consume' | 'sendConsume' }[];
  readonly putsEvents?: boolean;
  readonly managesConnections?: boolean;
}

/** Kinds of DynamoDB stream record. */
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface StreamMappingDef {
  readonly function: string;
  readonly table: string;
  /**
   * Only these record kinds invoke the function (a Lambda filter; the others are dropped without
   * an invocation). Absent = every record.
   */
  readonly filterEventNames?: readonly StreamEventName[];
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly bisectBatchOnError: boolean;
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly reportBatchItemFailures: true;
  /** On-failure destination (SQS): receives the batch's metadata (shard, sequence range), not the records. */
  readonly onFailure: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

export interface QueueMappingDef {
  readonly function: string;
  readonly queue: string;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: true;
  /** Concurrent batches the mapping may run (Lambda's SQS maximum concurrency, 2-1000). */
  readonly maxConcurrency: number;
}

/** An EventBridge event pattern in its wire form (as in the template's `EventPattern`). */
export type EventPattern = Readonly<Record<string, unknown>>;

export interface RuleDef {
  readonly description: string;
  readonly pattern: EventPattern;
  /** Rule target: an SQS queue. Every route goes through a queue so failures end in a DLQ. */
  readonly targetQueue: string;
}

export interface WebSocketRouteDef {
  readonly routeKey: string;
  readonly function: string;
}

const S = 'S' as const;

export const topology = {
  tables: {
    /** The outbox: rows written by applications; its stream feeds the publisher. */
    outbox: {
      env: 'OUTBOX_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
      stream: 'NEW_IMAGE',
      ttlAttribute: 'expiresAt',
    },
    /**
     * The audit log, single-table: `pk = EVT#<eventId>`, `sk = EVENT` for the event, `sk =
     * ATTEMPT#...` for each delivery attempt; `TENANT#<id>` partitions hold tenant notes.
     * Indexes: by tenant+channel and by tenant+resource, each in position order.
     */
    audit: {
      env: 'AUDIT_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
      ttlAttribute: 'expiresAt',
      indexes: [
        {
          name: 'byChannel',
          partitionKey: { name: 'channelKey', type: S },
          sortKey: { name: 'position', type: S },
        },
        {
          name: 'byResource',
          partitionKey: { name: 'resourceKey', type: S },
          sortKey: { name: 'position', type: S },
        },
        /** Resume and fetch by sequence: one tenant+channel+epoch, numeric `seq` (events with a sequence only). */
        {
          name: 'bySeq',
          partitionKey: { name: 'seqKey', type: S },
          sortKey: { name: 'seq', type: 'N' },
        },
        /** A subject's records (delivered, replayed, received, ...) in time order: `audit subject`. */
        {
          name: 'bySubject',
          partitionKey: { name: 'subjectKey', type: S },
          sortKey: { name: 'at', type: S },
        },
      ],
    },
    /**
     * Per-channel sequence counters and per-event assignments (src/core/sequence.ts). Its own table:
     * counters must outlive outbox rows and audit records (a lost counter starts a new epoch), and
     * the publisher's grant stays narrow. Assignments expire (`expiresAt`) after every replay path
     * of their event (stream 24 h, publisher DLQ 14 d, outbox rows 7 d) has closed.
     */
    sequences: {
      env: 'SEQUENCES_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
      ttlAttribute: 'expiresAt',
    },
    /** Rows (or stream records) that could not become events, with the reason. */
    quarantine: {
      env: 'QUARANTINE_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
      ttlAttribute: 'expiresAt',
    },
    /**
     * WebSocket connections and their subscriptions; subscribers are found by tenant+channel with a query.
     * `subscriptionKey` is sharded (`SUB#<tenant>#<channel>#<shard>`, see src/core/subscriptions.ts) so a
     * busy channel's subscribers are read with parallel queries over several index partitions.
     */
    connections: {
      env: 'CONNECTIONS_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
      ttlAttribute: 'expiresAt',
      indexes: [
        {
          name: 'bySubscription',
          partitionKey: { name: 'subscriptionKey', type: S },
          sortKey: { name: 'connectionId', type: S },
          // Fan-out reads the connection id (the sort key) and checks tenant and channel.
          projection: { include: ['tenantId', 'channel'] },
        },
      ],
    },
    /** Webhook endpoints per tenant (`pk = TENANT#<id>`, `sk = ENDPOINT#<id>`). */
    webhookEndpoints: {
      env: 'WEBHOOK_ENDPOINTS_TABLE',
      partitionKey: { name: 'pk', type: S },
      sortKey: { name: 'sk', type: S },
    },
  },

  queues: {
    /** The publisher mapping's on-failure destination (metadata only: shard and sequence range). */
    publisherDlq: { env: 'PUBLISHER_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
    // Visibility timeouts of consumed queues: 6 x the consumer's timeout + 60 s for a batching
    // window (Lambda asks for at least 6 x timeout + window); a longer configured window raises
    // it at synth, and the rule pack checks the deployed values.
    auditQueue: {
      env: 'AUDIT_QUEUE_URL',
      visibilityTimeoutSeconds: 6 * 30 + 60,
      retentionDays: 14,
      deadLetter: { queue: 'auditDlq', maxReceiveCount: 5 },
    },
    auditDlq: { env: 'AUDIT_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
    fanoutQueue: {
      env: 'FANOUT_QUEUE_URL',
      visibilityTimeoutSeconds: 6 * 60 + 60,
      retentionDays: 4,
      deadLetter: { queue: 'fanoutDlq', maxReceiveCount: 5 },
    },
    fanoutDlq: { env: 'FANOUT_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
    webhookDispatchQueue: {
      env: 'WEBHOOK_DISPATCH_QUEUE_URL',
      visibilityTimeoutSeconds: 6 * 30 + 60,
      retentionDays: 4,
      deadLetter: { queue: 'webhookDispatchDlq', maxReceiveCount: 5 },
    },
    webhookDispatchDlq: { env: 'WEBHOOK_DISPATCH_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
    /**
     * One message per (event, endpoint). Retries are scheduled by the delivery handler with
     * ChangeMessageVisibility; the redrive count is only a backstop above the retry schedule.
     * Retries reuse the message, so the whole schedule must fit in its retention: 14 days (the SQS
     * maximum) holds every schedule the configuration accepts.
     */
    webhookDeliveryQueue: {
      env: 'WEBHOOK_DELIVERY_QUEUE_URL',
      visibilityTimeoutSeconds: 6 * 60 + 60,
      retentionDays: 14,
      deadLetter: { queue: 'webhookDlq', maxReceiveCount: 20 },
    },
    webhookDlq: { env: 'WEBHOOK_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
    /** Dead-letter queue of the bus rules' targets (an event EventBridge could not deliver to a queue). */
    busTargetDlq: { env: 'BUS_TARGET_DLQ_URL', visibilityTimeoutSeconds: 30, retentionDays: 14 },
  },

  functions: {
    publisher: {
      entry: 'lambdas/publisher/handler.ts',
      timeoutSeconds: 60,
      memoryMb: 512,
      // sequences: numbers per channel; outbox: the number is written back to the row.
      tables: [
        { table: 'quarantine', access: 'write' },
        { table: 'sequences', access: 'readWrite' },
        { table: 'outbox', access: 'write' },
      ],
      queues: [],
      putsEvents: true,
    },
    audit: {
      entry: 'lambdas/audit/handler.ts',
      timeoutSeconds: 30,
      memoryMb: 256,
      // quarantine: a message whose body is not a valid envelope is stored there with the reason.
      tables: [
        { table: 'audit', access: 'write' },
        { table: 'quarantine', access: 'write' },
      ],
      queues: [{ queue: 'auditQueue', access: 'consume' }],
    },
    wsAuthorizer: {
      entry: 'lambdas/ws-authorizer/handler.ts',
      timeoutSeconds: 10,
      reservedConcurrency: 10,
      memoryMb: 256,
      tables: [],
      queues: [],
    },
    wsConnect: {
      entry: 'lambdas/ws-connect/handler.ts',
      timeoutSeconds: 10,
      reservedConcurrency: 10,
      memoryMb: 256,
      // outbox: `connection.opened` when connection events are on (src/core/connectionEvents.ts).
      tables: [
        { table: 'connections', access: 'write' },
        { table: 'outbox', access: 'write' },
      ],
      queues: [],
    },
    wsDisconnect: {
      entry: 'lambdas/ws-disconnect/handler.ts',
      timeoutSeconds: 10,
      memoryMb: 256,
      // outbox: `connection.closed` when connection events are on.
      tables: [
        { table: 'connections', access: 'readWrite' },
        { table: 'outbox', access: 'write' },
      ],
      queues: [],
    },
    wsMessage: {
      entry: 'lambdas/ws-message/handler.ts',
      // API Gateway gives a WebSocket integration at most 29 s.
      timeoutSeconds: 29,
      memoryMb: 512,
      // sequences: a channel's epoch for the heads (created when the channel has no counter yet).
      // audit readWrite: resume replays and receipts (`ack`) are recorded per subject.
      tables: [
        { table: 'connections', access: 'readWrite' },
        { table: 'audit', access: 'readWrite' },
        { table: 'sequences', access: 'readWrite' },
      ],
      queues: [],
      managesConnections: true,
    },
    fanout: {
      entry: 'lambdas/fanout/handler.ts',
      timeoutSeconds: 60,
      memoryMb: 1024,
      // audit readWrite: the consistent BatchGet that finds the events already audited before
      // delivery, then the pre-record, summaries and per-subject records.
      tables: [
        { table: 'connections', access: 'readWrite' },
        { table: 'audit', access: 'readWrite' },
      ],
      // fanoutDlq: poison messages are parked there directly, with the reason, so they never block a batch.
      queues: [
        { queue: 'fanoutQueue', access: 'sendConsume' },
        { queue: 'fanoutDlq', access: 'send' },
      ],
      managesConnections: true,
    },
    webhookDispatcher: {
      entry: 'lambdas/webhook-dispatcher/handler.ts',
      timeoutSeconds: 30,
      memoryMb: 256,
      // webhookEndpoints readWrite: the dispatcher keeps each tenant's catalogue of event types and channels.
      tables: [
        { table: 'webhookEndpoints', access: 'readWrite' },
        { table: 'quarantine', access: 'write' },
      ],
      queues: [
        { queue: 'webhookDispatchQueue', access: 'consume' },
        { queue: 'webhookDeliveryQueue', access: 'send' },
      ],
    },
    webhookDelivery: {
      entry: 'lambdas/webhook-delivery/handler.ts',
      timeoutSeconds: 60,
      memoryMb: 512,
      tables: [
        { table: 'webhookEndpoints', access: 'readWrite' },
        { table: 'audit', access: 'write' },
      ],
      queues: [
        { queue: 'webhookDeliveryQueue', access: 'sendConsume' },
        { queue: 'webhookDlq', access: 'send' },
      ],
    },
    /** The tenant webhook API (HTTP API; docs/webhooks-api.yaml): reads attempts and events, writes endpoints and notes, queues deliveries. */
    webhookApi: {
      entry: 'lambdas/webhook-api/handler.ts',
      timeoutSeconds: 29,
      memoryMb: 512,
      tables: [
        { table: 'webhookEndpoints', access: 'readWrite' },
        { table: 'audit', access: 'readWrite' },
      ],
      queues: [{ queue: 'webhookDeliveryQueue', access: 'send' }],
    },
  },

  streamMappings: [
    {
      function: 'publisher',
      table: 'outbox',
      // Rows are published once, when written: TTL deletes and later updates of a row (e.g. a
      // write-back) never invoke the publisher.
      filterEventNames: ['INSERT'],
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      maxRetryAttempts: 10,
      maxRecordAgeSeconds: 6 * 60 * 60,
      reportBatchItemFailures: true,
      onFailure: 'publisherDlq',
      startingPosition: 'TRIM_HORIZON',
    },
  ],

  queueMappings: [
    {
      function: 'audit',
      queue: 'auditQueue',
      batchSize: 25,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      maxConcurrency: 10,
    },
    {
      function: 'fanout',
      queue: 'fanoutQueue',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      maxConcurrency: 10,
    },
    {
      function: 'webhookDispatcher',
      queue: 'webhookDispatchQueue',
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      maxConcurrency: 5,
    },
    {
      function: 'webhookDelivery',
      queue: 'webhookDeliveryQueue',
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      // Several batches in flight: a slow or hanging endpoint holds at most one request (its flow
      // cap while slow), hence one invocation, so the others keep the rest.
      maxConcurrency: 8,
    },
  ],

  bus: {
    env: 'EVENT_BUS_NAME',
    archiveRetentionDays: 30,
    rules: {
      audit: {
        description: 'Every event to the audit log',
        pattern: { source: [EVENT_SOURCE] },
        targetQueue: 'auditQueue',
      },
      fanout: {
        description: 'Every event to WebSocket fan-out',
        pattern: { source: [EVENT_SOURCE] },
        targetQueue: 'fanoutQueue',
      },
      webhooks: {
        description: 'Every event to webhook dispatch',
        pattern: { source: [EVENT_SOURCE] },
        targetQueue: 'webhookDispatchQueue',
      },
    },
  },

  webSocket: {
    /** Environment variable holding the `@connections` management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
    managementEndpointEnv: 'WEBSOCKET_MANAGEMENT_ENDPOINT',
    stageName: 'live',
    routeSelectionExpression: '$request.body.action',
    authorizer: 'wsAuthorizer',
    routes: [
      { routeKey: '$connect', function: 'wsConnect' },
      { routeKey: '$disconnect', function: 'wsDisconnect' },
      { routeKey: 'subscribe', function: 'wsMessage' },
      { routeKey: 'unsubscribe', function: 'wsMessage' },
      { routeKey: 'resume', function: 'wsMessage' },
      { routeKey: 'ping', function: 'wsMessage' },
      { routeKey: 'fetch', function: 'wsMessage' },
      { routeKey: 'ack', function: 'wsMessage' },
      { routeKey: '$default', function: 'wsMessage' },
    ],
    throttling: { rateLimit: 500, burstLimit: 1000 },
  },
} as const satisfies {
  tables: Record<string, TableDef>;
  queues: Record<string, QueueDef>;
  functions: Record<string, FunctionDef>;
  streamMappings: readonly StreamMappingDef[];
  queueMappings: readonly QueueMappingDef[];
  bus: { env: string; archiveRetentionDays: number; rules: Record<string, RuleDef> };
  webSocket: {
    managementEndpointEnv: string;
    stageName: string;
    routeSelectionExpression: string;
    authorizer: string;
    routes: readonly WebSocketRouteDef[];
    throttling: { rateLimit: number; burstLimit: number };
  };
};

export type Topology = typeof topology;
export type TableName = keyof Topology['tables'];
export type QueueName = keyof Topology['queues'];
export type FunctionName = keyof Topology['functions'];
export type RuleName = keyof Topology['bus']['rules'];
