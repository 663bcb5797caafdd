/**
 * The no-loss checker: start the runtime as a child process with faults switched on, connect
 * WebSocket clients and webhook receivers, write outbox rows while the runtime is disrupted the
 * ways people and machines do it (Ctrl-C, SIGKILL, DynamoDB Local's JVM killed, a stale checkpoint
 * file, fan-out lagging far behind the audit), wait for quiescence, then classify every event on
 * every path, and say which phase each missing one was written in.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { readIdleMark } from '../../local/faults/crashRecovery.js';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { readDlqMessage } from '../../src/aws/webhookQueues.js';
import { peekMessages } from '../../src/cli/ops/sqsDlq.js';
import { topology } from '../../src/contract/topology.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import { deadLetterSchema } from '../../src/core/webhookMessages.js';
import { appendToOutbox } from '../../src/producer/index.js';
import { classify, type EndpointFacts, type Facts, type Verdict, type WrittenEvent } from './classify.js';
import { createRuntimeProcess, type RuntimeEndpointsFile } from './runtimeProcess.js';
import { RECEIVER_KINDS, type Receiver, startReceiver } from './webhookReceivers.js';
import { type FleetClient, startClient } from './wsClients.js';

/**
 * - `sigkill`: the runtime's whole process group, JVM included (a crashed machine), then a restart;
 * - `sigint`: Ctrl-C (a clean stop: drain, queue snapshot), then a restart;
 * - `jvm-kill`: only DynamoDB Local's JVM (SIGKILL); the runtime must notice and restart it;
 * - `stale-checkpoints`: a clean stop, then every checkpoint moved far ahead of the database (a
 *   checkpoint file newer than its database), then a restart.
 */
export type DisruptionKind = 'sigkill' | 'sigint' | 'jvm-kill' | 'stale-checkpoints';

export interface Disruption {
  /** After this fraction of the events is written. */
  readonly at: number;
  readonly kind: DisruptionKind;
}

export interface CheckerOptions {
  readonly events: number;
  readonly tenants: number;
  readonly clients: number;
  /** Kill the runtime (SIGKILL) after this fraction of the events is written (same as a `sigkill` disruption). */
  readonly killAt?: number;
  readonly disruptions?: readonly Disruption[];
  /** Slow every fan-out invocation by `fanoutLatencyMs` while the events between `from` and `to` are written. */
  readonly lag?: { readonly from: number; readonly to: number; readonly fanoutLatencyMs: number };
  readonly faults: unknown;
  readonly keepDataDir?: boolean;
  readonly log?: (line: string) => void;
  /** How long the slow webhook receiver takes to answer. @default 500 */
  readonly slowReceiverMs?: number;
  /** Overall deadline for quiescence after the last write. */
  readonly settleTimeoutMs?: number;
  /** Give up earlier when the queued work has not changed for this long (default: settleTimeoutMs). */
  readonly settleStallMs?: number;
}

export interface CheckerReport {
  readonly verdict: Verdict;
  readonly facts: Facts;
  readonly dataDir: string;
  readonly durationMs: number;
  readonly faultCounts: unknown[];
  readonly restarts: number;
  /** The phase each event was written in (`start`, `lag`, or the disruption before it). */
  readonly phases: ReadonlyMap<string, string>;
  /** Disruptions as they happened, in order. */
  readonly disrupted: readonly DisruptionKind[];
}

/** The long form's disruptions: every kind once, apart enough for the runtime to resume between them. */
export const ALL_DISRUPTIONS: readonly Disruption[] = [
  { at: 0.3, kind: 'sigint' },
  { at: 0.45, kind: 'sigkill' },
  { at: 0.6, kind: 'jvm-kill' },
  { at: 0.75, kind: 'stale-checkpoints' },
];
export const DEFAULT_LAG = { from: 0.05, to: 0.25, fanoutLatencyMs: 400 } as const;

const checkpointFileSchema = z
  .object({
    mappings: z.record(
      z.string(),
      z
        .object({ shards: z.record(z.string(), z.object({ sequenceNumber: z.string().optional() }).loose()) })
        .loose(),
    ),
  })
  .loose();

/** Moves every saved checkpoint of a data directory far ahead, as a checkpoint file newer than its database. */
export function advanceCheckpoints(dataDir: string, by = 1_000_000n): number {
  const path = join(dataDir, 'dynamodb', 'checkpoints.json');
  const file = checkpointFileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  let moved = 0;
  for (const mapping of Object.values(file.mappings)) {
    for (const shard of Object.values(mapping.shards)) {
      const sequence = shard.sequenceNumber;
      if (sequence === undefined || !/^\d+$/.test(sequence)) continue;
      shard.sequenceNumber = String(BigInt(sequence) + by).padStart(sequence.length, '0');
      moved += 1;
    }
  }
  writeFileSync(path, JSON.stringify(file));
  return moved;
}

/** Moderate rates on every hop: the configuration of `npm run test:faults`. */
export const DEFAULT_FAULTS = {
  seed: 20261123,
  putEvents: { entryThrottleFraction: 0.05, entryInternalFailureFraction: 0.03 },
  handlers: {
    publisher: { throwFraction: 0.03 },
    audit: { throwFraction: 0.03 },
    fanout: { throwFraction: 0.03 },
    webhookDispatcher: { throwFraction: 0.03 },
    webhookDelivery: { throwFraction: 0.03 },
  },
  connections: { errorFraction: 0.03, goneFraction: 0.003 },
  latencyMs: { managementApi: 5, audit: 5 },
} as const;

/**
 * The CI form: every kind of fault, but handler throws only in the publisher. A throw in an SQS
 * consumer hides its whole batch for the queue's visibility timeout (60–120 s, as on Lambda),
 * which the long form affords and a 3-minute CI run does not.
 */
export const SHORT_FAULTS = {
  ...DEFAULT_FAULTS,
  handlers: { publisher: { throwFraction: 0.05 } },
  connections: { errorFraction: 0.05, goneFraction: 0.005 },
} as const;

const CHANNELS = ['orders', 'billing'] as const;
/** Short retry schedule so the always-failing endpoint reaches the DLQ within the run. */
const WEBHOOK_RETRY_SCHEDULE = '0,1,1,2';
const WEBHOOK_MAX_ATTEMPTS = 4;

const delay = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(250);
  }
}

/** Messages per consumed queue (visible + in flight + delayed), e.g. `webhookDeliveryQueue 812 (3 in flight, 0 delayed)`. */
export async function queueDepths(file: RuntimeEndpointsFile): Promise<{ text: string; total: number }> {
  const sqs = new SQSClient({
    endpoint: file.endpoints.sqs,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const parts: string[] = [];
    let total = 0;
    for (const { queue } of topology.queueMappings) {
      const url = file.env[topology.queues[queue]?.env ?? ''];
      if (!url) continue;
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      const visible = Number(a.ApproximateNumberOfMessages ?? 0);
      const inFlight = Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
      const delayed = Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
      total += visible + inFlight + delayed;
      if (visible + inFlight + delayed > 0)
        parts.push(`${queue} ${visible + inFlight + delayed} (${inFlight} in flight, ${delayed} delayed)`);
    }
    return { text: parts.join(', ') || 'every consumed queue empty', total };
  } finally {
    sqs.destroy();
  }
}

function documentClientFor(file: RuntimeEndpointsFile): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: file.endpoints.dynamodb,
      region: file.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

function envOf(file: RuntimeEndpointsFile, name: string): string {
  const value = file.env[name];
  if (!value) throw new Error(`the runtime's env has no ${name}`);
  return value;
}

async function scanAll(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function faultCounts(file: RuntimeEndpointsFile): Promise<unknown> {
  try {
    const response = await fetch(`${file.endpoints.control}/faults`);
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? Reflect.get(body, 'counts') : undefined;
  } catch {
    return undefined;
  }
}

export async function runChecker(options: CheckerOptions): Promise<CheckerReport> {
  const log = options.log ?? ((line: string) => console.error(line));
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'outbox-relay-faults-'));
  const tenants = Array.from({ length: options.tenants }, (_, i) => `tenant-${i + 1}`);
  const receivers: Receiver[] = await Promise.all(
    RECEIVER_KINDS.map((kind) => startReceiver(kind, options.slowReceiverMs ?? 500)),
  );
  const runtime = createRuntimeProcess({
    dataDir,
    faults: options.faults,
    // The circuit breaker is off here so the checker sees every attempt of a failing endpoint
    // (it is on by default everywhere else); OUTBOX_RELAY_FAULTS_CIRCUIT=on runs it as deployed.
    env: {
      WEBHOOK_RETRY_SCHEDULE,
      OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true',
      WEBHOOK_CIRCUIT_FAILURES: process.env.OUTBOX_RELAY_FAULTS_CIRCUIT === 'on' ? '5' : '0',
      // On a loaded machine the local receivers' measured latency passes the 2 s "slow" threshold
      // (a 300 ms receiver measured 1.4 s), which caps every endpoint at one request in flight and
      // the webhook backlog then drains at a few dozen a minute; 10 s keeps "slow" for really slow
      // receivers. OUTBOX_RELAY_FAULTS_SLOW_AFTER_MS=2000 runs it as deployed.
      WEBHOOK_SLOW_AFTER_MS: process.env.OUTBOX_RELAY_FAULTS_SLOW_AFTER_MS ?? '10000',
    },
    logFile: join(dataDir, 'runtime.log'),
  });
  const clients: FleetClient[] = [];
  const counts: unknown[] = [];
  let restarts = 0;
  try {
    log(`[checker] starting the runtime (data in ${dataDir})…`);
    let file = await runtime.start();
    let db = documentClientFor(file);

    // Four endpoints per tenant, one per receiver kind.
    const endpointIds = new Map<string, { kind: string; tenantId: string }>();
    // After a restart DynamoDB Local may listen on another port: always use the current client.
    const endpointsRepository = () =>
      createWebhookEndpointsRepository({
        client: db,
        tableName: envOf(file, topology.tables.webhookEndpoints.env),
      });
    const endpoints = endpointsRepository();
    for (const tenantId of tenants) {
      for (const receiver of receivers) {
        const endpoint = createEndpoint(
          { url: `${receiver.url}/${tenantId}`, maxAttempts: WEBHOOK_MAX_ATTEMPTS, timeoutSeconds: 10 },
          { tenantId, now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: WEBHOOK_MAX_ATTEMPTS },
        );
        await endpoints.create(endpoint);
        receiver.secrets.set(tenantId, endpoint.secrets[0]?.secret ?? '');
        endpointIds.set(endpoint.id, { kind: receiver.kind, tenantId });
      }
    }

    const jwtSecret = () => envOf(file, 'JWT_SECRET');
    for (let i = 0; i < options.clients; i += 1) {
      clients.push(
        startClient({
          name: `client-${i + 1}`,
          url: file.endpoints.webSocket,
          tenantId: tenants[i % tenants.length] ?? 'tenant-1',
          channels: CHANNELS,
          jwtSecret,
        }),
      );
    }
    await Promise.all(clients.map((c) => c.client.ready()));
    // A baseline event per tenant+channel gives every client a resume point (`since`), as an app's
    // loaded state would: a client that has seen nothing on a channel has none, and the protocol
    // resumes only from an event id. Baseline events are not counted.
    const baseline = new Set<string>();
    for (const tenantId of tenants) {
      for (const channel of CHANNELS) {
        const eventId = `baseline-${tenantId}-${channel}-${started.toString(36)}`;
        baseline.add(eventId);
        await appendToOutbox(
          db,
          {
            eventId,
            tenantId,
            channel,
            type: 'checker.baseline',
            resourceId: 'baseline',
            data: { baseline: true },
            occurredAt: new Date().toISOString(),
          },
          { tableName: envOf(file, topology.tables.outbox.env) },
        );
      }
    }
    await waitFor(
      'every client to receive its baseline events',
      () =>
        clients.every((c) => [...baseline].filter((id) => c.delivered.has(id)).length === CHANNELS.length),
      60_000,
    );
    log(
      `[checker] ${clients.length} WebSocket clients ready, ${endpointIds.size} webhook endpoints registered`,
    );

    const written: WrittenEvent[] = [];
    const phases = new Map<string, string>();
    const disrupted: DisruptionKind[] = [];
    const disruptions = new Map<number, DisruptionKind>();
    if (options.killAt !== undefined) disruptions.set(Math.floor(options.events * options.killAt), 'sigkill');
    for (const d of options.disruptions ?? []) disruptions.set(Math.floor(options.events * d.at), d.kind);
    const lagFrom = options.lag ? Math.floor(options.events * options.lag.from) : -1;
    const lagTo = options.lag ? Math.floor(options.events * options.lag.to) : -1;
    let phase = 'start';
    let restart: Promise<void> | undefined;
    const setFaults = async (config: unknown) => {
      const response = await fetch(`${file.endpoints.control}/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(config),
      });
      if (!response.ok) throw new Error(`PUT /control/faults answered ${response.status}`);
    };
    const restartAfter = (stopped: Promise<unknown>, before?: () => void) => {
      restarts += 1;
      restart = stopped
        .then(() => before?.())
        .then(() => runtime.start())
        .then((next) => {
          log('[checker] runtime restarted on the same data directory');
          file = next;
          db = documentClientFor(next);
        });
    };
    const outbox = () => envOf(file, topology.tables.outbox.env);
    for (let k = 0; k < options.events; k += 1) {
      const tenantId = tenants[k % tenants.length] ?? 'tenant-1';
      const channel = CHANNELS[Math.floor(k / tenants.length) % CHANNELS.length] ?? 'orders';
      const row = {
        eventId: `ev-${String(k).padStart(5, '0')}-${started.toString(36)}`,
        tenantId,
        channel,
        type: 'order.updated',
        resourceId: `order-${k % 50}`,
        data: { k },
        occurredAt: new Date().toISOString(),
      };
      // The runtime may be down (killed, restarting): retry the same row; appends are idempotent.
      for (;;) {
        try {
          await appendToOutbox(db, row, { tableName: outbox() });
          break;
        } catch {
          await delay(300);
          if (runtime.current.pid !== file.pid) {
            file = runtime.current;
            db = documentClientFor(file);
          }
        }
      }
      written.push({ id: row.eventId, tenantId, channel, writtenAt: Date.now() });
      phases.set(row.eventId, phase);
      if (k === lagFrom && options.lag) {
        // The fan-out falls far behind the audit, as under CPU contention.
        await restart;
        await setFaults({
          ...(typeof options.faults === 'object' ? options.faults : {}),
          latencyMs: {
            ...(typeof options.faults === 'object' && options.faults !== null
              ? Reflect.get(options.faults, 'latencyMs')
              : {}),
            fanout: options.lag.fanoutLatencyMs,
          },
        });
        phase = 'lag';
        log(
          `[checker] ${k + 1} events written: fan-out slowed by ${options.lag.fanoutLatencyMs} ms per invocation`,
        );
      }
      if (k === lagTo && options.lag) {
        await restart;
        await setFaults(options.faults ?? {});
        phase = 'after lag';
        log(`[checker] ${k + 1} events written: fan-out at full speed again`);
      }
      const kind = disruptions.get(k);
      if (kind) {
        // One disruption at a time: the previous restart has finished.
        await restart;
        counts.push(await faultCounts(file));
        disrupted.push(kind);
        phase = kind;
        log(`[checker] ${k + 1} events written: ${kind}`);
        if (kind === 'sigkill') {
          await runtime.kill();
          restartAfter(Promise.resolve());
        } else if (kind === 'sigint') {
          restartAfter(
            runtime.interrupt().then((code) => {
              if (code !== 0) throw new Error(`the runtime exited with ${code} after SIGINT`);
            }),
          );
        } else if (kind === 'stale-checkpoints') {
          restartAfter(runtime.interrupt(), () => {
            log(`[checker] ${advanceCheckpoints(dataDir)} checkpoint(s) moved ahead of the database`);
          });
        } else {
          const jvm = runtime.jvmPid();
          if (jvm === undefined) throw new Error('no DynamoDB Local pid file');
          process.kill(jvm, 'SIGKILL');
        }
      }
      if (k % 100 === 99) log(`[checker] ${k + 1}/${options.events} events written`);
    }
    await restart;
    const lastWrite = Date.now();
    log(
      `[checker] every event written (${((lastWrite - started) / 1000).toFixed(1)} s); waiting for quiescence…`,
    );
    const settle = options.settleTimeoutMs ?? 300_000;
    let reportedAt = Date.now();
    // A backlog that keeps moving is slow, not stuck: the wait ends early only when the queued
    // work has not changed for `stallMs` (the cap is `settle`). Growth counts as movement: the
    // dispatcher turns each event into a delivery per endpoint.
    let lastQueued = -1;
    let progressAt = Date.now();
    const stallMs = options.settleStallMs ?? settle;
    await waitFor(
      'the runtime to be idle after the last write',
      async () => {
        if ((readIdleMark(dataDir)?.getTime() ?? 0) > lastWrite) return true;
        if (Date.now() - reportedAt >= 60_000) {
          // Where the work still is, so a slow settle can be told from a stuck one.
          reportedAt = Date.now();
          const depths = await queueDepths(file).catch(() => undefined);
          log(`[checker] not idle yet: ${depths?.text ?? 'queue depths not readable'}`);
          if (depths && depths.total !== lastQueued) {
            lastQueued = depths.total;
            progressAt = Date.now();
          }
          if (Date.now() - progressAt > stallMs)
            throw new Error(
              `the runtime's queued work did not change for ${Math.round(stallMs / 1000)} s after the last write: ${depths?.text ?? ''}`,
            );
        }
        return false;
      },
      settle,
    );
    log(`[checker] runtime idle after ${((Date.now() - lastWrite) / 1000).toFixed(1)} s`);
    // Clients may still be resuming: wait until every expected event is accounted for, or nothing changes for 5 s.
    let lastTotal = -1;
    let stableSince = Date.now();
    await waitFor(
      'WebSocket clients to settle',
      () => {
        const total = clients.reduce((sum, c) => sum + c.delivered.size + c.refreshes.length, 0);
        if (total !== lastTotal) {
          lastTotal = total;
          stableSince = Date.now();
        }
        return Date.now() - stableSince > 5_000;
      },
      settle,
    );
    log(`[checker] quiescent after ${((Date.now() - lastWrite) / 1000).toFixed(1)} s; classifying`);
    counts.push(await faultCounts(file));

    const auditItems = await scanAll(db, envOf(file, topology.tables.audit.env));
    const audited = new Set<string>();
    const attempts = new Map<string, { eventId: string; outcome: string; error: string }[]>();
    for (const item of auditItems) {
      if (item.kind === 'event' && typeof item.eventId === 'string') audited.add(item.eventId);
      if (item.kind === 'attempt' && item.path === 'webhook' && typeof item.target === 'string') {
        const list = attempts.get(item.target) ?? [];
        list.push({
          eventId: String(item.eventId),
          outcome: String(item.outcome),
          error: String(item.error ?? ''),
        });
        attempts.set(item.target, list);
      }
    }
    const quarantined = new Map<string, string>();
    for (const item of await scanAll(db, envOf(file, topology.tables.quarantine.env))) {
      if (typeof item.eventId === 'string') quarantined.set(item.eventId, String(item.reason));
    }
    const sqs = new SQSClient({
      endpoint: file.endpoints.sqs,
      region: file.env.AWS_REGION ?? 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    const dlq = new Map<string, Map<string, string>>();
    for (const message of await peekMessages(sqs, envOf(file, topology.queues.webhookDlq.env), 100_000)) {
      const letter = deadLetterSchema.safeParse(JSON.parse(message.body));
      const delivery = letter.success ? letter.data : readDlqMessage(message.body);
      if (!delivery) continue;
      const reasons = dlq.get(delivery.endpointId) ?? new Map<string, string>();
      reasons.set(delivery.eventId, letter.success ? letter.data.deadLetter.code : 'max_receives');
      dlq.set(delivery.endpointId, reasons);
    }
    sqs.destroy();

    const endpointFacts: EndpointFacts[] = [];
    for (const [endpointId, { kind, tenantId }] of endpointIds) {
      const state = await endpointsRepository().get(tenantId, endpointId);
      const receiver = receivers.find((r) => r.kind === kind);
      const deadLettered = new Map(dlq.get(endpointId) ?? []);
      const attempted = new Set<string>();
      for (const attempt of attempts.get(endpointId) ?? []) {
        attempted.add(attempt.eventId);
        // The DLQ lives in memory: after a crash the audit's record of the dead letter is the evidence.
        if (
          ['dead-lettered', 'gone', 'refused'].includes(attempt.outcome) &&
          !deadLettered.has(attempt.eventId)
        ) {
          deadLettered.set(attempt.eventId, `${attempt.outcome} (audit)`);
        }
      }
      endpointFacts.push({
        kind,
        tenantId,
        endpointId,
        enabled: state?.enabled ?? false,
        verified: new Map(
          [...(receiver?.verified ?? new Map<string, number>())].filter(([id]) => id.length > 0),
        ),
        deadLettered,
        attempted,
      });
    }
    // A receiver sees every tenant's events: keep each endpoint's own tenant only.
    const byTenant = new Map(written.map((e) => [e.id, e.tenantId]));
    const facts: Facts = {
      written,
      audited,
      quarantined,
      clients: clients.map((c) => ({ ...c })),
      endpoints: endpointFacts.map((e) => ({
        ...e,
        verified: new Map([...e.verified].filter(([id]) => byTenant.get(id) === e.tenantId)),
      })),
    };
    return {
      verdict: classify(facts),
      facts,
      dataDir,
      durationMs: Date.now() - started,
      faultCounts: counts,
      restarts,
      phases,
      disrupted,
    };
  } finally {
    for (const c of clients) c.client.close();
    await runtime.stop();
    await Promise.all(receivers.map((r) => r.close()));
    if (!options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
