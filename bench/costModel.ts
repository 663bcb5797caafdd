/**
 * The monthly AWS bill of the pipeline for a given load, line by line, with the arithmetic of each
 * line in words. Pure: the price table is a parameter (the repository's table, with its source and
 * date, is `bench/prices.ts`), and so is every assumption about how many requests an event causes
 * (`DEFAULT_PIPELINE_ASSUMPTIONS`, each documented where it is defined and in docs/cost.md).
 *
 * @example
 *   const report = estimateMonthlyCost({ eventsPerDay: 1_000_000, connectionsPerEvent: 100, webhooksPerEvent: 0 }, PRICES);
 *   report.totalUsd; // ≈ $3,413: messages $2,635 (volume tier applied), data transfer $358, DynamoDB $258
 */

import { DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS } from '../src/core/fanoutSubjects.js';
import { WEBSOCKET_MAX_MESSAGE_BYTES } from '../src/core/limits.js';
import { MAX_ACK_IDS } from '../src/core/protocol.js';

/** A price that falls with volume: `upTo` is the cumulative quantity (in units) at which the tier ends. */
export interface PriceTier {
  readonly upTo: number;
  readonly usdPerUnit: number;
}

export interface PriceTable {
  readonly region: string;
  /** Where the prices were read, and when. */
  readonly sources: readonly string[];
  readonly checkedOn: string;
  readonly lambda: { readonly usdPerRequest: number; readonly usdPerGbSecondArm64: number };
  readonly eventBridge: { readonly usdPerCustomEvent: number; readonly chunkBytes: number };
  readonly apiGatewayWebSocket: {
    readonly messageTiers: readonly PriceTier[];
    readonly messageUnitBytes: number;
    readonly usdPerConnectionMinute: number;
  };
  readonly sqs: { readonly usdPerRequest: number; readonly chunkBytes: number };
  readonly dynamoDb: {
    readonly usdPerWriteRequestUnit: number;
    readonly usdPerReadRequestUnit: number;
    readonly usdPerGbMonthStored: number;
    /** Reading a table's stream from a Lambda event source mapping is free. */
    readonly usdPerStreamReadByLambda: number;
  };
  readonly cloudWatch: {
    readonly usdPerGbLogsIngested: number;
    readonly usdPerGbMonthLogsStored: number;
    readonly usdPerMetricMonth: number;
    readonly usdPerAlarmMetricMonth: number;
  };
  readonly dataTransferOut: { readonly usdPerGb: number };
  readonly appSyncEvents: { readonly usdPerOperation: number; readonly usdPerConnectionMinute: number };
  readonly ably: { readonly usdPerMessage: number };
}

/** The load to price. */
export interface Workload {
  readonly eventsPerDay: number;
  /** WebSocket subscribers that receive each event. */
  readonly connectionsPerEvent: number;
  /** Webhook endpoints that receive each event. */
  readonly webhooksPerEvent: number;
  /** Size of the event's `data`, in KB (1 KB = 1,024 bytes). @default 1 */
  readonly payloadKb?: number;
  /**
   * Average events per WebSocket message to one connection (coalescing). 1 = off: one `event` frame
   * per event per subscriber. What a deployment reaches depends on the channel's rate and the
   * batching window (see `achievableEventsPerMessage`). @default 1
   */
  readonly coalesceEventsPerMessage?: number;
  /** Clients connected all month (connection-minutes, reconnects, pings). @default connectionsPerEvent */
  readonly connectedClients?: number;
  /**
   * Per-subject audit records up to this many subscribers per event (`fanout.subjectRecordsMaxSubscribers`);
   * above it the per-event summary only. @default 100
   */
  readonly subjectRecordsMaxSubscribers?: number;
  /** Share of subscribers that send receipts (`receipts: true`), 0–1. @default 0 */
  readonly receiptsShare?: number;
}

/**
 * How many requests, units and milliseconds one event causes in this pipeline. Every figure is a
 * stated assumption, not a measurement of AWS; override any of them.
 */
export interface PipelineAssumptions {
  /** Billing month: the AWS Pricing Calculator's 730 hours. */
  readonly hoursPerMonth: number;
  /** Envelope fields other than `data` (id, tenant, channel, type, resource, time, position) in JSON. */
  readonly envelopeOverheadBytes: number;
  /** Outbox row attributes other than `data` (keys, ids, channel, type, occurredAt, TTL). */
  readonly outboxRowOverheadBytes: number;
  /** EventBridge event wrapper around `detail` as an SQS body (version, id, detail-type, source, account, time, region, resources). */
  readonly eventBridgeWrapperBytes: number;
  /** `{"type":"event","event":…}` around an envelope in a WebSocket frame. */
  readonly frameOverheadBytes: number;
  /**
   * Batches a busy stream or queue mapping delivers per second at a zero batching window: streams
   * are polled about 4 times a second per shard, SQS pollers return as soon as messages arrive.
   * The average batch is then clamp(rate ÷ this, 1, batch size).
   */
  readonly batchesPerSecondPerMapping: number;
  /** Topology batch sizes (src/contract/topology.ts). */
  readonly publisherBatchSize: number;
  readonly auditBatchSize: number;
  readonly fanoutBatchSize: number;
  readonly webhookDispatchBatchSize: number;
  readonly webhookDeliveryBatchSize: number;
  /** SQS returns at most 10 messages per ReceiveMessage and deletes at most 10 per DeleteMessageBatch. */
  readonly sqsMessagesPerRequest: number;
  /** Lambda polls each SQS queue with 5 long-polling (20 s) connections even when the queue is idle. */
  readonly sqsIdlePollersPerQueue: number;
  readonly sqsLongPollSeconds: number;
  /** Queues read by Lambda: audit, fan-out, webhook dispatch, webhook delivery. */
  readonly queuesPolledByLambda: number;
  /** Audit table: the event item is written to the table and to its byChannel and byResource indexes (projection ALL). */
  readonly auditEventItemWrites: number;
  /**
   * The fan-out makes sure the event is audited before delivering it (so a resume right after has
   * no gap): a consistent read finds the events the audit consumer already recorded, and it records
   * the others itself, whose audit consumer's conditional put then fails (a failed condition still
   * consumes the base table's write units; no index is written). Priced as the worst case: the
   * fan-out first for every event (1 re-put per event) and the read always made.
   */
  readonly auditEventItemConditionalRewrites: number;
  readonly auditEventItemExtraBytes: number;
  /**
   * One WebSocket attempt item per event (target `fanout`: subscriber, delivered, gone, … counts;
   * see src/core/auditRecord.ts). Per-connection bytes stay 0 unless attempt items list connections.
   */
  readonly websocketAttemptItemBaseBytes: number;
  readonly websocketAttemptBytesPerConnection: number;
  readonly webhookAttemptItemBytes: number;
  /** Webhook deliveries per (event, endpoint), retries included. */
  readonly webhookAttemptsPerDelivery: number;
  /** Connection subscription items read by the fan-out's query (eventually consistent: 0.5 RRU per 4 KB). */
  readonly subscriptionItemBytes: number;
  /**
   * Sequence numbers (src/core/sequence.ts): events of one channel numbered per transaction. One
   * per transaction is the worst case (every event alone in its channel within a publisher batch);
   * a busy channel numbers a whole batch at once, paying the counter's write once.
   */
  readonly sequenceEventsPerTransaction: number;
  /** The assignment item (sequences table, written transactionally: 2 WRU per KB) and how long it is kept. */
  readonly sequenceAssignmentItemBytes: number;
  readonly sequenceAssignmentRetentionDays: number;
  /** Outbox rows live this long (TTL deletes are free); audit items this long. */
  readonly outboxRetentionDays: number;
  readonly auditRetentionDays: number;
  /** One receipt (a `received` record: subject, connection, outcome, channel, type, keys). */
  readonly subjectRecordItemBytes: number;
  /**
   * The fan-out's per-subject records (src/core/subjectItems.ts): per event one digest of at most
   * 100 subjects (keys and event fields, plus one entry per subject), and per connection and
   * fan-out write one deliveries item (keys and subject fields, plus one entry per event).
   */
  readonly subjectDigestItemBaseBytes: number;
  readonly subjectDigestEntryBytes: number;
  readonly subjectDeliveriesItemBaseBytes: number;
  readonly subjectDeliveriesEventBytes: number;
  /** The fan-out mapping's batching window: with `fanoutBatchSize`, how many events one fan-out write can hold per connection. */
  readonly fanoutBatchingWindowSeconds: number;
  /** A client reconnects at API Gateway's 2-hour limit, subscribes once, and pings every 5 minutes (ping + pong). */
  readonly connectionLifetimeMinutes: number;
  readonly pingIntervalMinutes: number;
  /** Lambda durations: a fixed part per invocation plus a part per record / per message. */
  readonly publisherMs: {
    readonly perInvocation: number;
    readonly perRecord: number;
    readonly memoryMb: number;
  };
  readonly auditMs: { readonly perInvocation: number; readonly perRecord: number; readonly memoryMb: number };
  readonly fanoutMs: {
    readonly perInvocation: number;
    readonly perQuery: number;
    /** PostToConnection calls run in parallel (about 50 at a time), so each adds a fraction of its round trip. */
    readonly perMessage: number;
    readonly memoryMb: number;
  };
  readonly dispatcherMs: {
    readonly perInvocation: number;
    readonly perRecord: number;
    readonly memoryMb: number;
  };
  /** Deliveries in one batch run in parallel; the receiver's response time dominates. */
  readonly deliveryMs: {
    readonly perInvocation: number;
    readonly perRecord: number;
    readonly memoryMb: number;
  };
  readonly wsRouteMs: { readonly perInvocation: number; readonly memoryMb: number };
  /** CloudWatch Logs per invocation: START/END/REPORT lines plus one structured summary line. */
  readonly logBytesPerInvocation: number;
  readonly logRetentionDays: number;
  /** Custom metrics (src/core/metricNames.ts: about 20 name × service pairs) and alarms (DLQ depths, iterator age, errors). */
  readonly customMetrics: number;
  readonly alarms: number;
}

export const DEFAULT_PIPELINE_ASSUMPTIONS: PipelineAssumptions = {
  hoursPerMonth: 730,
  envelopeOverheadBytes: 350,
  outboxRowOverheadBytes: 250,
  eventBridgeWrapperBytes: 300,
  frameOverheadBytes: 30,
  batchesPerSecondPerMapping: 5,
  publisherBatchSize: 100,
  auditBatchSize: 25,
  fanoutBatchSize: 100,
  webhookDispatchBatchSize: 10,
  webhookDeliveryBatchSize: 10,
  sqsMessagesPerRequest: 10,
  sqsIdlePollersPerQueue: 5,
  sqsLongPollSeconds: 20,
  queuesPolledByLambda: 4,
  auditEventItemWrites: 3,
  auditEventItemConditionalRewrites: 1,
  auditEventItemExtraBytes: 200,
  websocketAttemptItemBaseBytes: 400,
  websocketAttemptBytesPerConnection: 0,
  webhookAttemptItemBytes: 300,
  webhookAttemptsPerDelivery: 1,
  subscriptionItemBytes: 200,
  sequenceEventsPerTransaction: 1,
  sequenceAssignmentItemBytes: 200,
  sequenceAssignmentRetentionDays: 30,
  outboxRetentionDays: 7,
  auditRetentionDays: 30,
  subjectRecordItemBytes: 300,
  subjectDigestItemBaseBytes: 200,
  subjectDigestEntryBytes: 50,
  subjectDeliveriesItemBaseBytes: 200,
  subjectDeliveriesEventBytes: 60,
  fanoutBatchingWindowSeconds: 1,
  connectionLifetimeMinutes: 120,
  pingIntervalMinutes: 5,
  publisherMs: { perInvocation: 25, perRecord: 0.5, memoryMb: 512 },
  auditMs: { perInvocation: 15, perRecord: 2, memoryMb: 256 },
  fanoutMs: { perInvocation: 15, perQuery: 10, perMessage: 0.3, memoryMb: 1024 },
  dispatcherMs: { perInvocation: 15, perRecord: 3, memoryMb: 256 },
  deliveryMs: { perInvocation: 150, perRecord: 2, memoryMb: 512 },
  wsRouteMs: { perInvocation: 20, memoryMb: 256 },
  logBytesPerInvocation: 750,
  logRetentionDays: 30,
  customMetrics: 20,
  alarms: 10,
};

export type CostService =
  | 'API Gateway WebSocket'
  | 'Lambda'
  | 'EventBridge'
  | 'SQS'
  | 'DynamoDB'
  | 'CloudWatch'
  | 'Data transfer';

export interface CostLine {
  readonly service: CostService;
  readonly item: string;
  readonly quantity: number;
  /** What `quantity` counts: "messages", "GB-s", "WRU", … */
  readonly unit: string;
  /** The price as a reader would quote it ("$1.00/M, $0.80/M over 1 B"). */
  readonly price: string;
  readonly usd: number;
  /** How the quantity was reached, in words and numbers. */
  readonly explanation: string;
}

export interface Alternative {
  readonly name: string;
  readonly usd: number;
  readonly explanation: string;
}

export interface CostReport {
  readonly workload: Required<Workload>;
  readonly eventsPerMonth: number;
  readonly lines: readonly CostLine[];
  readonly byService: Readonly<Record<CostService, number>>;
  readonly totalUsd: number;
  /** The realtime delivery part only (API Gateway messages + connection-minutes), to compare with hosted services. */
  readonly realtimeUsd: number;
  /** The same realtime load at AppSync Events' and Ably's list prices. */
  readonly alternatives: readonly Alternative[];
  /** Events per message actually used (capped so a frame stays within the 128 KB message limit). */
  readonly effectiveEventsPerMessage: number;
}

const KB = 1024;
const GB = 1024 ** 3;
const MILLION = 1_000_000;

export class InvalidWorkloadError extends Error {
  override readonly name = 'InvalidWorkloadError';
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Cost of `quantity` units under volume tiers (cumulative `upTo`). */
export function tieredCost(quantity: number, tiers: readonly PriceTier[]): number {
  let usd = 0;
  let priced = 0;
  for (const tier of tiers) {
    if (priced >= quantity) break;
    const inTier = Math.min(quantity, tier.upTo) - priced;
    usd += inTier * tier.usdPerUnit;
    priced += inTier;
  }
  return usd;
}

/** Average records per invocation of a mapping at zero batching window (see `batchesPerSecondPerMapping`). */
export function averageBatch(recordsPerSecond: number, batchSize: number, a: PipelineAssumptions): number {
  return clamp(recordsPerSecond / a.batchesPerSecondPerMapping, 1, batchSize);
}

/**
 * Events per message a connection gets when the fan-out groups what arrives within `windowSeconds`
 * on one channel (at least 1, at most `maxEventsPerFrame`).
 */
export function achievableEventsPerMessage(
  channelEventsPerSecond: number,
  windowSeconds: number,
  maxEventsPerFrame: number,
): number {
  return clamp(channelEventsPerSecond * windowSeconds, 1, maxEventsPerFrame);
}

function usdOfMillions(perUnit: number): string {
  const perMillion = perUnit * MILLION;
  return `$${perMillion.toFixed(perMillion < 1 ? 3 : 2)}/M`;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function millions(n: number): string {
  return `${fmt(n / MILLION, 2)} M`;
}

function describeTiers(tiers: readonly PriceTier[]): string {
  return tiers
    .map((t, i) => {
      const price = usdOfMillions(t.usdPerUnit);
      if (i === 0) return Number.isFinite(t.upTo) ? `${price} up to ${fmt(t.upTo / 1e9)} B` : price;
      return `${price} beyond`;
    })
    .join(', ');
}

function normaliseWorkload(w: Workload): Required<Workload> {
  const full: Required<Workload> = {
    eventsPerDay: w.eventsPerDay,
    connectionsPerEvent: w.connectionsPerEvent,
    webhooksPerEvent: w.webhooksPerEvent,
    payloadKb: w.payloadKb ?? 1,
    coalesceEventsPerMessage: w.coalesceEventsPerMessage ?? 1,
    connectedClients: w.connectedClients ?? w.connectionsPerEvent,
    subjectRecordsMaxSubscribers: w.subjectRecordsMaxSubscribers ?? DEFAULT_SUBJECT_RECORDS_MAX_SUBSCRIBERS,
    receiptsShare: w.receiptsShare ?? 0,
  };
  for (const [key, value] of Object.entries(full)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidWorkloadError(`${key} must be a finite number ≥ 0, got ${value}`);
    }
  }
  if (full.receiptsShare > 1) {
    throw new InvalidWorkloadError(`receiptsShare must be from 0 to 1, got ${full.receiptsShare}`);
  }
  if (full.coalesceEventsPerMessage < 1) {
    throw new InvalidWorkloadError(
      `coalesceEventsPerMessage must be ≥ 1 (1 = off), got ${full.coalesceEventsPerMessage}`,
    );
  }
  return full;
}

/**
 * Price one month of the pipeline for `workload`. Every line carries its quantity, its price and
 * an explanation; `docs/cost.md` works three sizes through by hand.
 */
export function estimateMonthlyCost(
  workload: Workload,
  prices: PriceTable,
  assumptions: PipelineAssumptions = DEFAULT_PIPELINE_ASSUMPTIONS,
): CostReport {
  const w = normaliseWorkload(workload);
  const a = assumptions;
  const lines: CostLine[] = [];
  const add = (line: CostLine): void => {
    lines.push(line);
  };

  const daysPerMonth = a.hoursPerMonth / 24;
  const minutesPerMonth = a.hoursPerMonth * 60;
  const events = w.eventsPerDay * daysPerMonth;
  const eventsPerSecond = w.eventsPerDay / 86_400;
  const C = w.connectionsPerEvent;
  const W = w.webhooksPerEvent;
  const payloadBytes = w.payloadKb * KB;

  // Sizes of one event at each hop.
  const envelopeBytes = payloadBytes + a.envelopeOverheadBytes;
  const busEntryBytes = envelopeBytes + 14 + 'outbox-relay'.length + 30;
  const sqsBodyBytes = envelopeBytes + a.eventBridgeWrapperBytes;
  const frameEventBytes = envelopeBytes + 1; // the comma between envelopes in an `events` frame
  const maxEventsPerFrame = Math.max(
    1,
    Math.floor((WEBSOCKET_MAX_MESSAGE_BYTES - a.frameOverheadBytes) / frameEventBytes),
  );
  const E = Math.min(w.coalesceEventsPerMessage, maxEventsPerFrame);

  // ---- API Gateway WebSocket -------------------------------------------------------------------
  const ws = prices.apiGatewayWebSocket;
  const frameBytes = a.frameOverheadBytes + E * frameEventBytes;
  const unitsPerMessage = Math.max(1, Math.ceil(frameBytes / ws.messageUnitBytes));
  const eventMessages = (events * C) / E;
  const eventMessageUnits = eventMessages * unitsPerMessage;
  const clients = w.connectedClients;
  const connectsPerMonth = clients * (minutesPerMonth / a.connectionLifetimeMinutes);
  const pingsPerMonth = clients * (minutesPerMonth / a.pingIntervalMinutes);
  // subscribe + subscribed per connect; ping + pong per ping interval.
  const protocolMessages = connectsPerMonth * 2 + pingsPerMonth * 2;
  const allMessageUnits = eventMessageUnits + protocolMessages;
  const messagesUsd = tieredCost(allMessageUnits, ws.messageTiers);
  const messagesShareOfEvents = allMessageUnits === 0 ? 0 : eventMessageUnits / allMessageUnits;
  add({
    service: 'API Gateway WebSocket',
    item: 'messages (32 KB units)',
    quantity: allMessageUnits,
    unit: 'units',
    price: describeTiers(ws.messageTiers),
    usd: messagesUsd,
    explanation:
      `${millions(events)} events × ${fmt(C)} subscribers ÷ ${fmt(E, 2)} events/message × ${unitsPerMessage} unit(s) of ` +
      `${ws.messageUnitBytes / KB} KB (frame ≈ ${fmt(frameBytes)} B) = ${millions(eventMessageUnits)}; plus ` +
      `${millions(protocolMessages)} protocol messages (subscribe/subscribed per connect, ping/pong every ` +
      `${a.pingIntervalMinutes} min for ${fmt(clients)} clients). Event frames are ${fmt(messagesShareOfEvents * 100, 1)} % of units.`,
  });
  const connectionMinutes = clients * minutesPerMonth;
  add({
    service: 'API Gateway WebSocket',
    item: 'connection-minutes',
    quantity: connectionMinutes,
    unit: 'connection-minutes',
    price: usdOfMillions(ws.usdPerConnectionMinute),
    usd: connectionMinutes * ws.usdPerConnectionMinute,
    explanation: `${fmt(clients)} clients connected all month × ${fmt(minutesPerMonth)} minutes.`,
  });

  // ---- Lambda -------------------------------------------------------------------------------------
  const lambda = prices.lambda;
  interface LambdaUse {
    name: string;
    invocations: number;
    gbSeconds: number;
    how: string;
  }
  const lambdaUses: LambdaUse[] = [];
  const gbs = (invocations: number, msPerInvocation: number, memoryMb: number): number =>
    invocations * (msPerInvocation / 1000) * (memoryMb / 1024);

  const publisherBatch = averageBatch(eventsPerSecond, a.publisherBatchSize, a);
  const publisherInvocations = events / publisherBatch;
  const publisherMs = a.publisherMs.perInvocation + a.publisherMs.perRecord * publisherBatch;
  lambdaUses.push({
    name: 'publisher',
    invocations: publisherInvocations,
    gbSeconds: gbs(publisherInvocations, publisherMs, a.publisherMs.memoryMb),
    how: `${fmt(publisherBatch, 1)} records/batch, ${fmt(publisherMs, 1)} ms at ${a.publisherMs.memoryMb} MB`,
  });

  const auditBatch = averageBatch(eventsPerSecond, a.auditBatchSize, a);
  const auditInvocations = events / auditBatch;
  const auditMs = a.auditMs.perInvocation + a.auditMs.perRecord * auditBatch;
  lambdaUses.push({
    name: 'audit',
    invocations: auditInvocations,
    gbSeconds: gbs(auditInvocations, auditMs, a.auditMs.memoryMb),
    how: `${fmt(auditBatch, 1)} records/batch, ${fmt(auditMs, 1)} ms at ${a.auditMs.memoryMb} MB`,
  });

  const fanoutBatch = averageBatch(eventsPerSecond, a.fanoutBatchSize, a);
  const fanoutInvocations = events / fanoutBatch;
  // One subscription query per E events (a coalesced group shares it), one PostToConnection per message.
  const fanoutQueries = events / E;
  const fanoutMsTotal =
    fanoutInvocations * a.fanoutMs.perInvocation +
    fanoutQueries * a.fanoutMs.perQuery +
    eventMessages * a.fanoutMs.perMessage;
  lambdaUses.push({
    name: 'fan-out',
    invocations: fanoutInvocations,
    gbSeconds: (fanoutMsTotal / 1000) * (a.fanoutMs.memoryMb / 1024),
    how:
      `${fmt(fanoutBatch, 1)} events/batch; ${a.fanoutMs.perInvocation} ms/invocation + ${a.fanoutMs.perQuery} ms/query + ` +
      `${a.fanoutMs.perMessage} ms/message at ${a.fanoutMs.memoryMb} MB`,
  });

  const dispatchBatch = averageBatch(eventsPerSecond, a.webhookDispatchBatchSize, a);
  const dispatchInvocations = events / dispatchBatch;
  const dispatchMs = a.dispatcherMs.perInvocation + a.dispatcherMs.perRecord * dispatchBatch;
  lambdaUses.push({
    name: 'webhook dispatcher',
    invocations: dispatchInvocations,
    gbSeconds: gbs(dispatchInvocations, dispatchMs, a.dispatcherMs.memoryMb),
    how: `${fmt(dispatchBatch, 1)} events/batch, ${fmt(dispatchMs, 1)} ms at ${a.dispatcherMs.memoryMb} MB`,
  });

  const deliveries = events * W * a.webhookAttemptsPerDelivery;
  const deliveryBatch = averageBatch(eventsPerSecond * W, a.webhookDeliveryBatchSize, a);
  const deliveryInvocations = deliveries / deliveryBatch;
  const deliveryMs = a.deliveryMs.perInvocation + a.deliveryMs.perRecord * deliveryBatch;
  lambdaUses.push({
    name: 'webhook delivery',
    invocations: deliveryInvocations,
    gbSeconds: gbs(deliveryInvocations, deliveryMs, a.deliveryMs.memoryMb),
    how: `${fmt(deliveryBatch, 1)} deliveries/batch, ${fmt(deliveryMs, 1)} ms at ${a.deliveryMs.memoryMb} MB`,
  });

  // Authorizer + $connect + subscribe + $disconnect per connection, and the ping route.
  const wsRouteInvocations = connectsPerMonth * 4 + pingsPerMonth;
  lambdaUses.push({
    name: 'WebSocket routes',
    invocations: wsRouteInvocations,
    gbSeconds: gbs(wsRouteInvocations, a.wsRouteMs.perInvocation, a.wsRouteMs.memoryMb),
    how: `4 per connect (authorizer, $connect, subscribe, $disconnect) + 1 per ping, ${a.wsRouteMs.perInvocation} ms at ${a.wsRouteMs.memoryMb} MB`,
  });

  const invocations = lambdaUses.reduce((s, u) => s + u.invocations, 0);
  const gbSeconds = lambdaUses.reduce((s, u) => s + u.gbSeconds, 0);
  add({
    service: 'Lambda',
    item: 'requests',
    quantity: invocations,
    unit: 'invocations',
    price: usdOfMillions(lambda.usdPerRequest),
    usd: invocations * lambda.usdPerRequest,
    explanation: lambdaUses.map((u) => `${u.name} ${millions(u.invocations)}`).join(', '),
  });
  add({
    service: 'Lambda',
    item: 'duration (arm64)',
    quantity: gbSeconds,
    unit: 'GB-s',
    price: `$${lambda.usdPerGbSecondArm64}/GB-s`,
    usd: gbSeconds * lambda.usdPerGbSecondArm64,
    explanation: lambdaUses.map((u) => `${u.name}: ${u.how} → ${fmt(u.gbSeconds)} GB-s`).join('; '),
  });

  // ---- EventBridge ------------------------------------------------------------------------------
  const eb = prices.eventBridge;
  const busChunks = Math.ceil(busEntryBytes / eb.chunkBytes);
  add({
    service: 'EventBridge',
    item: 'custom events (64 KB chunks)',
    quantity: events * busChunks,
    unit: 'events',
    price: usdOfMillions(eb.usdPerCustomEvent),
    usd: events * busChunks * eb.usdPerCustomEvent,
    explanation:
      `${millions(events)} events × ${busChunks} chunk(s) (entry ≈ ${fmt(busEntryBytes)} B); in ` +
      `${millions(events / 10)} PutEvents calls of 10 (calls are not billed); delivery to the 3 SQS targets is free.`,
  });

  // ---- SQS --------------------------------------------------------------------------------------
  const sqs = prices.sqs;
  const sqsChunks = Math.ceil(sqsBodyBytes / sqs.chunkBytes);
  const ruleSends = events * 3 * sqsChunks;
  // A queue's receives and deletes: one request per batch up to 10 messages.
  const requestsToConsume = (messages: number, batch: number): number =>
    2 * (messages / Math.min(batch, a.sqsMessagesPerRequest)) * sqsChunks;
  const ruleConsume =
    requestsToConsume(events, auditBatch) +
    requestsToConsume(events, fanoutBatch) +
    requestsToConsume(events, dispatchBatch);
  const deliverySends = events * Math.ceil(W / a.sqsMessagesPerRequest) * sqsChunks;
  const deliveryConsume = requestsToConsume(deliveries, deliveryBatch);
  const idlePolls =
    a.queuesPolledByLambda * a.sqsIdlePollersPerQueue * ((a.hoursPerMonth * 3600) / a.sqsLongPollSeconds);
  const sqsRequests = ruleSends + ruleConsume + deliverySends + deliveryConsume + idlePolls;
  add({
    service: 'SQS',
    item: 'requests (64 KB chunks)',
    quantity: sqsRequests,
    unit: 'requests',
    price: usdOfMillions(sqs.usdPerRequest),
    usd: sqsRequests * sqs.usdPerRequest,
    explanation:
      `3 rule targets × ${millions(events)} events = ${millions(ruleSends)} sends; receive+delete per batch ` +
      `= ${millions(ruleConsume)}; webhook deliveries ${millions(deliverySends)} sends (batches of 10 per event) + ` +
      `${millions(deliveryConsume)} receive/delete; idle long-polls ${a.queuesPolledByLambda} queues × ` +
      `${a.sqsIdlePollersPerQueue} pollers every ${a.sqsLongPollSeconds} s = ${millions(idlePolls)}.`,
  });

  // ---- DynamoDB ---------------------------------------------------------------------------------
  const ddb = prices.dynamoDb;
  const wru = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));
  const outboxRowBytes = payloadBytes + a.outboxRowOverheadBytes;
  const auditItemBytes = envelopeBytes + a.auditEventItemExtraBytes;
  const wsAttemptBytes = a.websocketAttemptItemBaseBytes + a.websocketAttemptBytesPerConnection * C;
  const outboxWrus = events * wru(outboxRowBytes);
  const auditWrus =
    events * (a.auditEventItemWrites + a.auditEventItemConditionalRewrites) * wru(auditItemBytes);
  const wsAttemptWrus = C > 0 ? events * wru(wsAttemptBytes) : 0;
  const hookAttemptWrus = deliveries * wru(a.webhookAttemptItemBytes);
  // Connection item + one subscription item written on connect, both deleted on disconnect.
  const connectionWrus = connectsPerMonth * 4;
  const writeUnits = outboxWrus + auditWrus + wsAttemptWrus + hookAttemptWrus + connectionWrus;
  add({
    service: 'DynamoDB',
    item: 'write request units (on-demand)',
    quantity: writeUnits,
    unit: 'WRU',
    price: usdOfMillions(ddb.usdPerWriteRequestUnit),
    usd: writeUnits * ddb.usdPerWriteRequestUnit,
    explanation:
      `outbox row ${wru(outboxRowBytes)} WRU (${fmt(outboxRowBytes)} B) = ${millions(outboxWrus)}; audit event item ` +
      `(${a.auditEventItemWrites} + ${a.auditEventItemConditionalRewrites}) × ${wru(auditItemBytes)} WRU (table + 2 indexes, ` +
      `+ the second, conditional put) = ${millions(auditWrus)}; WebSocket ` +
      `attempt ${wru(wsAttemptBytes)} WRU/event = ${millions(wsAttemptWrus)}; webhook attempts ${millions(hookAttemptWrus)}; ` +
      `connections ${millions(connectionWrus)}. TTL deletes are free.`,
  });
  const subscriptionQueryRrus = 0.5 * Math.max(1, Math.ceil((C * a.subscriptionItemBytes) / (4 * KB)));
  const fanoutReadUnits = C > 0 ? fanoutQueries * subscriptionQueryRrus : 0;
  const endpointReadUnits = events * 0.5 + deliveries * 0.5;
  // The fan-out's consistent read of the audit item (a projection does not lower the units).
  const auditCheckRrus = wru(auditItemBytes / 4);
  const auditCheckReadUnits = C > 0 ? events * auditCheckRrus : 0;
  const readUnits = fanoutReadUnits + endpointReadUnits + auditCheckReadUnits;
  add({
    service: 'DynamoDB',
    item: 'read request units (on-demand)',
    quantity: readUnits,
    unit: 'RRU',
    price: usdOfMillions(ddb.usdPerReadRequestUnit),
    usd: readUnits * ddb.usdPerReadRequestUnit,
    explanation:
      `fan-out: ${millions(fanoutQueries)} subscription queries × ${subscriptionQueryRrus} RRU (${fmt(C)} items of ` +
      `${a.subscriptionItemBytes} B, eventually consistent) + ${auditCheckRrus} RRU per event to check the audit holds it ` +
      `(consistent read) = ${millions(auditCheckReadUnits)}; webhook endpoints: 0.5 RRU per event (dispatcher) and per ` +
      `delivery. The outbox stream read by the publisher is free.`,
  });
  // Per event: the assignment item and its share of the counter update (transactional: 2 WRU per
  // KB each), the write-back to the outbox row (an update is billed on the larger of the old and
  // new item), and the audit item's entry in the bySeq index; reads: one consistent read of the
  // assignment and the counter's share.
  const k = Math.max(1, a.sequenceEventsPerTransaction);
  const seqTxWrus = 2 * wru(a.sequenceAssignmentItemBytes) + (2 * 1) / k;
  const seqWriteBackWrus = wru(outboxRowBytes + 40);
  const seqIndexWrus = wru(auditItemBytes);
  const seqWrusPerEvent = seqTxWrus + seqWriteBackWrus + seqIndexWrus;
  const seqWrus = events * seqWrusPerEvent;
  const seqRrus = events * (1 + 1 / k);
  add({
    service: 'DynamoDB',
    item: 'sequence numbers (extra writes and reads)',
    quantity: seqWrus,
    unit: 'WRU',
    price: `${usdOfMillions(ddb.usdPerWriteRequestUnit)} WRU, ${usdOfMillions(ddb.usdPerReadRequestUnit)} RRU`,
    usd: seqWrus * ddb.usdPerWriteRequestUnit + seqRrus * ddb.usdPerReadRequestUnit,
    explanation:
      `${fmt(seqWrusPerEvent, 2)} WRU/event: assignment ${2 * wru(a.sequenceAssignmentItemBytes)} + counter ${fmt(2 / k, 2)} ` +
      `(transactional, ${fmt(k)} event/transaction) + row write-back ${seqWriteBackWrus} + bySeq index ${seqIndexWrus} ` +
      `= ${millions(seqWrus)}; ${fmt(1 + 1 / k, 2)} RRU/event (consistent reads) = ${millions(seqRrus)}. ` +
      `The write-back's stream record is read by the publisher for free and ignored.`,
  });
  const storedGb =
    ((events / daysPerMonth) *
      (a.outboxRetentionDays * outboxRowBytes +
        // Sequences: the assignment item, and the audit item's copy in the bySeq index.
        a.sequenceAssignmentRetentionDays * a.sequenceAssignmentItemBytes +
        a.auditRetentionDays *
          ((a.auditEventItemWrites + 1) * auditItemBytes +
            (C > 0 ? wsAttemptBytes : 0) +
            W * a.webhookAttemptItemBytes))) /
    GB;
  add({
    service: 'DynamoDB',
    item: 'storage',
    quantity: storedGb,
    unit: 'GB-month',
    price: `$${ddb.usdPerGbMonthStored}/GB-month`,
    usd: storedGb * ddb.usdPerGbMonthStored,
    explanation: `outbox rows kept ${a.outboxRetentionDays} days, audit items (with indexes) ${a.auditRetentionDays} days, sequence assignments ${a.sequenceAssignmentRetentionDays} days, at the steady state.`,
  });

  // ---- CloudWatch -------------------------------------------------------------------------------
  const cw = prices.cloudWatch;
  const logGb = (invocations * a.logBytesPerInvocation) / GB;
  add({
    service: 'CloudWatch',
    item: 'Logs ingestion and storage',
    quantity: logGb,
    unit: 'GB',
    price: `$${cw.usdPerGbLogsIngested}/GB ingested, $${cw.usdPerGbMonthLogsStored}/GB-month stored`,
    usd:
      logGb * cw.usdPerGbLogsIngested +
      logGb * (a.logRetentionDays / daysPerMonth) * cw.usdPerGbMonthLogsStored,
    explanation: `${millions(invocations)} invocations × ${a.logBytesPerInvocation} B, kept ${a.logRetentionDays} days.`,
  });
  add({
    service: 'CloudWatch',
    item: 'custom metrics and alarms',
    quantity: a.customMetrics + a.alarms,
    unit: 'metrics + alarms',
    price: `$${cw.usdPerMetricMonth}/metric-month, $${cw.usdPerAlarmMetricMonth}/alarm-month`,
    usd: a.customMetrics * cw.usdPerMetricMonth + a.alarms * cw.usdPerAlarmMetricMonth,
    explanation: `${a.customMetrics} custom metrics (EMF) and ${a.alarms} alarms, independent of load.`,
  });

  // ---- Data transfer out ------------------------------------------------------------------------
  const wsBytesOut = eventMessages * frameBytes;
  const hookBytesOut = deliveries * (envelopeBytes + 600); // body + request line and signed headers
  const transferGb = (wsBytesOut + hookBytesOut) / GB;
  add({
    service: 'Data transfer',
    item: 'to the internet (WebSocket frames, webhook requests)',
    quantity: transferGb,
    unit: 'GB',
    price: `$${prices.dataTransferOut.usdPerGb}/GB`,
    usd: transferGb * prices.dataTransferOut.usdPerGb,
    explanation: `${millions(eventMessages)} frames × ${fmt(frameBytes)} B + ${millions(deliveries)} webhook requests × ${fmt(envelopeBytes + 600)} B.`,
  });

  // ---- Per-subject records and receipts (docs/audit.md) ------------------------------------------
  for (const line of subjectRecordLines(w, events, clients, E, prices, a)) add(line);

  const byService: Record<CostService, number> = {
    'API Gateway WebSocket': 0,
    Lambda: 0,
    EventBridge: 0,
    SQS: 0,
    DynamoDB: 0,
    CloudWatch: 0,
    'Data transfer': 0,
  };
  for (const line of lines) byService[line.service] += line.usd;
  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  const realtimeUsd = byService['API Gateway WebSocket'];

  // The same realtime load elsewhere: one publish per event plus one delivery per subscriber.
  const appSyncOps = events * (1 + C) + connectsPerMonth * 2;
  const appSyncMinutes = clients * minutesPerMonth;
  const ablyMessages = events * (1 + C);
  const alternatives: Alternative[] = [
    {
      name: 'AppSync Events',
      usd:
        appSyncOps * prices.appSyncEvents.usdPerOperation +
        appSyncMinutes * prices.appSyncEvents.usdPerConnectionMinute,
      explanation:
        `${millions(appSyncOps)} operations (1 publish + ${fmt(C)} deliveries per event, connect + subscribe per ` +
        `connection) × ${usdOfMillions(prices.appSyncEvents.usdPerOperation)} + ${millions(appSyncMinutes)} connection-minutes × ` +
        `${usdOfMillions(prices.appSyncEvents.usdPerConnectionMinute)}. No per-connection batching is offered.`,
    },
    {
      name: 'Ably',
      usd: ablyMessages * prices.ably.usdPerMessage,
      explanation: `${millions(ablyMessages)} messages (1 published + ${fmt(C)} delivered per event) × ${usdOfMillions(prices.ably.usdPerMessage)}; connection and channel minutes not included.`,
    },
  ];

  return {
    workload: w,
    eventsPerMonth: events,
    lines,
    byService,
    totalUsd,
    realtimeUsd,
    alternatives,
    effectiveEventsPerMessage: E,
  };
}

/** Receipts messages a second from one connection that acknowledges `rate` events a second. */
export function receiptMessagesPerSecond(rate: number): number {
  if (rate <= 0) return 0;
  // One `ack` a second at most, holding up to 100 ids; a full one goes at once.
  return Math.max(Math.min(rate, 1), rate / MAX_ACK_IDS);
}

/** Per-subject items hold at most this many entries (SUBJECT_ITEM_MAX_ENTRIES). */
const SUBJECT_ITEM_ENTRIES = 100;

/**
 * Write units of the fan-out's per-subject records per event. Up to 100 subscribers the event's
 * summary (written anyway) carries its subjects, so `digest` is what that adds to the summary;
 * above, a digest item per 100 subscribers. Per subscriber, one deliveries item per fan-out write
 * to it — a write holds the `eventsPerWrite` events its batch gathered. Neither is copied into an
 * index (the deliveries item lives in the subject's own partition, sorted by time).
 */
export function subjectRecordWrusPerEvent(
  subscribers: number,
  eventsPerWrite: number,
  a: Pick<
    PipelineAssumptions,
    | 'subjectDigestItemBaseBytes'
    | 'subjectDigestEntryBytes'
    | 'subjectDeliveriesItemBaseBytes'
    | 'subjectDeliveriesEventBytes'
    | 'websocketAttemptItemBaseBytes'
  >,
): { digest: number; deliveries: number } {
  if (subscribers <= 0) return { digest: 0, deliveries: 0 };
  const wruOf = (bytes: number) => Math.ceil(bytes / KB);
  let digest: number;
  if (subscribers <= SUBJECT_ITEM_ENTRIES) {
    const summary = a.websocketAttemptItemBaseBytes;
    digest = wruOf(summary + subscribers * a.subjectDigestEntryBytes) - wruOf(summary);
  } else {
    const fullDigests = Math.floor(subscribers / SUBJECT_ITEM_ENTRIES);
    const rest = subscribers % SUBJECT_ITEM_ENTRIES;
    const digestWru = (entries: number) =>
      wruOf(a.subjectDigestItemBaseBytes + entries * a.subjectDigestEntryBytes);
    digest = fullDigests * digestWru(SUBJECT_ITEM_ENTRIES) + (rest > 0 ? digestWru(rest) : 0);
  }
  const perWrite = Math.min(Math.max(1, eventsPerWrite), SUBJECT_ITEM_ENTRIES);
  const itemWru = wruOf(a.subjectDeliveriesItemBaseBytes + perWrite * a.subjectDeliveriesEventBytes);
  return { digest, deliveries: (subscribers / perWrite) * itemWru };
}

/**
 * The two modes of the audit's per-subject records, and receipts: one line each. Per-subject: a
 * digest per event and a deliveries item per subscriber and fan-out write (no index copy), the
 * subjects read once per fan-out batch; summary-only: nothing beyond
 * the per-event summary. Receipts: inbound `ack` messages, one `received` item per acknowledged
 * event, one batch read of the acknowledged events.
 */
function subjectRecordLines(
  w: Required<Workload>,
  events: number,
  clients: number,
  eventsPerMessage: number,
  prices: PriceTable,
  a: PipelineAssumptions,
): CostLine[] {
  const C = w.connectionsPerEvent;
  const ddb = prices.dynamoDb;
  const wru = Math.max(1, Math.ceil(a.subjectRecordItemBytes / KB));
  const perSubject = C > 0 && C <= w.subjectRecordsMaxSubscribers;
  const out: CostLine[] = [];
  // A fan-out write to one connection holds what one batch gathered on its channel (a 1 s window
  // at this rate, at most a batch), coalesced into messages or not.
  const ratePerConnection = clients === 0 ? 0 : (events / (a.hoursPerMonth * 3600)) * (C / clients);
  const eventsPerWrite = Math.max(
    eventsPerMessage,
    clamp(ratePerConnection * a.fanoutBatchingWindowSeconds, 1, a.fanoutBatchSize),
  );
  const perEvent = subjectRecordWrusPerEvent(C, eventsPerWrite, a);
  const recordWrus = perSubject ? events * (perEvent.digest + perEvent.deliveries) : 0;
  out.push({
    service: 'DynamoDB',
    item: perSubject ? 'audit subject records (per-subject)' : 'audit subject records (summary-only)',
    quantity: recordWrus,
    unit: 'WRU',
    price: usdOfMillions(ddb.usdPerWriteRequestUnit),
    usd: recordWrus * ddb.usdPerWriteRequestUnit,
    explanation: perSubject
      ? `${fmt(C)} subscribers ≤ ${fmt(w.subjectRecordsMaxSubscribers)}: per event its subjects ` +
        `(${fmt(perEvent.digest)} WRU more on its summary up to 100 subscribers, digests above) and per subscriber one deliveries item per fan-out write of ` +
        `${fmt(Math.min(eventsPerWrite, SUBJECT_ITEM_ENTRIES), 1)} events (what a ${fmt(a.fanoutBatchingWindowSeconds)} s batch gathers ` +
        'per connection; no index copy) ' +
        `(${fmt(perEvent.deliveries, 2)} WRU per event) = ${millions(recordWrus)}; the subjects are read once per ` +
        'fan-out batch (0.5 RRU per connection, not counted). Off with subjectRecordsMaxSubscribers 0.'
      : `${fmt(C)} subscribers > ${fmt(w.subjectRecordsMaxSubscribers)} (or none): the per-event summary alone, marked ` +
        'summary-only; no per-subject writes.',
  });
  if (w.receiptsShare > 0 && C > 0) {
    const acking = clients * w.receiptsShare;
    // ratePerConnection: as above
    const messages = acking * receiptMessagesPerSecond(ratePerConnection) * a.hoursPerMonth * 3600;
    const ws = prices.apiGatewayWebSocket;
    out.push({
      service: 'API Gateway WebSocket',
      item: 'receipts (inbound ack messages)',
      quantity: messages,
      unit: 'messages',
      price: describeTiers(ws.messageTiers),
      usd: tieredCost(messages, ws.messageTiers),
      explanation:
        `${fmt(acking)} connections with receipts at ${fmt(ratePerConnection, 2)} events/s each send ` +
        `${fmt(receiptMessagesPerSecond(ratePerConnection), 2)} ack/s (one a second at most, 100 ids each) = ` +
        `${fmt(ratePerConnection === 0 ? 0 : receiptMessagesPerSecond(ratePerConnection) / ratePerConnection, 3)} inbound ` +
        'messages per event per connection (priced at the first tier).',
    });
    const acked = events * C * w.receiptsShare;
    const receiptWrus = acked * 2 * wru;
    out.push({
      service: 'DynamoDB',
      item: 'receipts (received records, reads)',
      quantity: receiptWrus,
      unit: 'WRU',
      price: usdOfMillions(ddb.usdPerWriteRequestUnit),
      usd: receiptWrus * ddb.usdPerWriteRequestUnit + acked * 0.5 * ddb.usdPerReadRequestUnit,
      explanation:
        `${millions(acked)} acknowledged events × ${wru} WRU × 2 (bySubject index) = ${millions(receiptWrus)}; ` +
        `plus ${millions(acked * 0.5)} RRU to look the acknowledged events up (batch reads, 0.5 RRU each, in the USD).`,
    });
  }
  return out;
}
