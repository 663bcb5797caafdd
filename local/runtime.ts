/**
 * The offline runtime: DynamoDB Local (+ Streams), fauxqs (SQS), the local EventBridge bus, the
 * local API Gateway WebSocket gateway, and pollers with Lambda's event-source-mapping semantics
 * invoking the handler modules in-process — all wired from `src/contract/topology.ts`.
 *
 * @example
 * const runtime = await startRuntime({ quiet: true });
 * // ... write outbox rows with the producer helper ...
 * await runtime.waitForIdle({ timeoutMs: 60_000 });
 * await runtime.stop();
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { type FunctionDef, type StreamMappingDef, topology } from '../src/contract/topology.js';
import { createConsoleHandler } from './console/index.js';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './constants.js';
import { type ControlServer, readJsonBody, sendJson, startControlServer } from './controlServer.js';
import { type DynamoLocal, startDynamoLocal } from './dynamo.js';
import { RuntimeNotIdleError, TrackedTableError } from './errors.js';
import { type BusArchive, createBusArchive } from './eventBridge/archive.js';
import { createLocalBus, type EntryInterceptor, type LocalBus } from './eventBridge/localBus.js';
import { startBusServer } from './eventBridge/server.js';
import { startWebSocketGateway, type WebSocketGateway } from './gateway/index.js';
import { createInvoker, type InvocationInterceptor, type Invoker } from './lambda/invoker.js';
import {
  type CheckpointStore,
  createFileCheckpointStore,
  createMemoryCheckpointStore,
} from './pollers/checkpoints.js';
import { type SqsPoller, startSqsPoller } from './pollers/sqsPoller.js';
import { type StreamPoller, startStreamPoller } from './pollers/streamPoller.js';
import { type LocalQueues, startQueues } from './queues.js';
import { LOCAL_EVENT_BUS_NAME, localFunctionArn } from './resourceNames.js';
import { baseAwsEnv, devJwtPreviousSecret, devJwtSecret, runtimeEnv } from './runtimeEnv.js';
import { createTables, type LocalTable } from './tables.js';

const ROOT_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface RuntimeOptions {
  /** Persist DynamoDB tables, stream checkpoints, the bus archive and the JWT secret here; in memory when absent. */
  readonly dataDir?: string;
  /** No log lines (errors of handlers included). */
  readonly quiet?: boolean;
  /** Extra environment for the handlers, applied last (overrides the runtime's values). */
  readonly env?: Readonly<Record<string, string>>;
  /** Fixed ports (default: from the OS). */
  readonly ports?: Partial<Record<'dynamodb' | 'sqs' | 'eventBridge' | 'webSocket' | 'console', number>>;
  /**
   * Batching window per SQS mapping in milliseconds, keyed by function name (e.g. `{ fanout: 100 }`):
   * sub-second windows for local latency budgets. Default: the topology's seconds.
   */
  readonly batchingWindowMs?: Readonly<Record<string, number>>;
  /** Concurrent batches per SQS mapping (a number for all, or per function name). Default 1: keeps order. */
  readonly sqsConcurrency?: number | Readonly<Record<string, number>>;
  /** Other tables (by name, already in DynamoDB Local with a stream) whose streams feed the publisher too. */
  readonly trackedTables?: readonly string[];
  /** Fault-injection hook before each handler invocation (throw to fail it). */
  readonly invocationInterceptor?: InvocationInterceptor;
  /** Fault-injection hook per PutEvents entry (return a rejection to fail it). */
  readonly entryInterceptor?: EntryInterceptor;
  /** Stream poll interval per shard (Lambda polls about 4 times a second). */
  readonly streamPollIntervalMs?: number;
  /** Start no pollers for these functions (tests that drive a handler themselves). */
  readonly disabledMappings?: readonly string[];
  /** Where log lines go (default: stderr). */
  readonly log?: (line: string) => void;
}

export type RuntimeEndpoints = {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly eventBridge: string;
  readonly webSocket: string;
  readonly managementApi: string;
  readonly console: string;
  readonly control: string;
};

export interface Runtime {
  readonly endpoints: RuntimeEndpoints;
  /** Everything the handlers see (also set on process.env). */
  readonly env: Readonly<Record<string, string>>;
  readonly tables: Readonly<Record<string, LocalTable>>;
  readonly queues: LocalQueues;
  readonly bus: LocalBus;
  readonly invoker: Invoker;
  readonly gateway: WebSocketGateway;
  readonly control: ControlServer;
  readonly dataDir: string | undefined;
  /**
   * Resolves when nothing is left to do: every stream read to its end past the checkpoints,
   * every consumed queue empty (visible, in flight and delayed), no handler or PutEvents running.
   * Sink queues nobody consumes (DLQs, on-failure destinations) are not waited for.
   */
  waitForIdle(options?: { timeoutMs?: number; ignoreQueues?: readonly string[] }): Promise<void>;
  /** Attaches the publisher to another table's stream (a tracked table). */
  trackTable(tableName: string): Promise<void>;
  invoke(functionName: string, event: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const log = options.quiet
    ? () => {}
    : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  Object.assign(process.env, baseAwsEnv());

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        log(`[runtime] stop: ${describe(error)}`);
      }
    }
  };

  try {
    // The JVM takes seconds: start everything that does not depend on it meanwhile.
    const dynamoStarting = startDynamoLocal({
      ...(dataDir ? { dataDir } : {}),
      ...(options.ports?.dynamodb ? { port: options.ports.dynamodb } : {}),
    });
    dynamoStarting.then((dynamo) => stoppers.push(() => dynamo.stop())).catch(() => {});
    const queues = await startQueues(options.ports?.sqs ? { port: options.ports.sqs } : {});
    stoppers.push(() => queues.stop());

    const sqsClient = new SQSClient({
      endpoint: queues.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    stoppers.push(async () => sqsClient.destroy());

    const invoker = createInvoker({
      rootDir: ROOT_DIR,
      ...(options.invocationInterceptor ? { interceptor: options.invocationInterceptor } : {}),
      onError: (functionName, error) => log(`[lambda:${functionName}] ${describe(error)}`),
    });

    const archive = createBusArchive(dataDir ? join(dataDir, 'bus-archive.jsonl') : undefined);
    const bus = createLocalBus({
      busName: LOCAL_EVENT_BUS_NAME,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT_ID,
      rules: Object.entries(topology.bus.rules).map(([name, rule]) => ({
        name,
        pattern: rule.pattern,
        targetQueueUrl: queueUrl(queues, rule.targetQueue),
      })),
      deliver: async (url, events) => {
        for (let i = 0; i < events.length; i += 10) {
          const chunk = events.slice(i, i + 10);
          const out = await sqsClient.send(
            new SendMessageBatchCommand({
              QueueUrl: url,
              Entries: chunk.map((event, index) => ({
                Id: String(index),
                MessageBody: JSON.stringify(event),
              })),
            }),
          );
          if (out.Failed && out.Failed.length > 0) {
            throw new Error(
              `SendMessageBatch to ${url} failed: ${out.Failed.map((f) => f.Message).join(', ')}`,
            );
          }
        }
      },
      deadLetterQueueUrl: queueUrl(queues, 'busTargetDlq'),
      archive,
      ...(options.entryInterceptor ? { interceptor: options.entryInterceptor } : {}),
      onDeliveryError: (rule, error) =>
        log(`[bus] rule ${rule}: delivery failed, event sent to the DLQ: ${describe(error)}`),
    });

    const [busServer, control, gateway] = await Promise.all([
      startBusServer(bus, options.ports?.eventBridge ? { port: options.ports.eventBridge } : {}),
      startControlServer(options.ports?.console ? { port: options.ports.console } : {}),
      startWebSocketGateway({
        ...(options.ports?.webSocket ? { port: options.ports.webSocket } : {}),
        invoke: (functionName, event) => invoker.invoke(functionName, event),
      }),
    ]);
    stoppers.push(
      () => busServer.stop(),
      () => control.stop(),
      () => gateway.stop(),
    );

    const dynamo: DynamoLocal = await dynamoStarting;
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const streamsClient = new DynamoDBStreamsClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    stoppers.push(async () => {
      dynamoClient.destroy();
      streamsClient.destroy();
    });
    const tables = await createTables(dynamoClient);

    const endpoints: RuntimeEndpoints = {
      dynamodb: dynamo.endpoint,
      sqs: queues.endpoint,
      eventBridge: busServer.endpoint,
      webSocket: gateway.url,
      managementApi: gateway.managementEndpoint,
      console: `${control.url}/`,
      control: `${control.url}/control`,
    };
    const env = {
      ...runtimeEnv({
        dynamodbEndpoint: dynamo.endpoint,
        sqsEndpoint: queues.endpoint,
        eventBridgeEndpoint: busServer.endpoint,
        managementEndpoint: gateway.managementEndpoint,
        busName: LOCAL_EVENT_BUS_NAME,
        tables,
        queues: queues.queues,
        jwtSecret: devJwtSecret(dataDir),
        jwtPreviousSecret: devJwtPreviousSecret(dataDir),
      }),
      ...options.env,
    };
    // Before any handler module is imported: they read their configuration from process.env.
    Object.assign(process.env, env);

    control.addRoute(healthRoute(endpoints));
    control.addRoute(busRoutes(bus, archive));
    control.addRoute(
      createConsoleHandler({
        env,
        endpoints,
        dropConnections: () => gateway.connectionIds().filter((id) => gateway.dropConnection(id)).length,
      }),
    );

    const disabled = new Set(options.disabledMappings ?? []);
    const functions: Readonly<Record<string, FunctionDef>> = topology.functions;
    await invoker.preload(Object.keys(functions).filter((name) => !disabled.has(name)));

    const checkpoints: CheckpointStore = dataDir
      ? createFileCheckpointStore(join(dataDir, 'checkpoints.json'))
      : createMemoryCheckpointStore();
    const streamPollers: StreamPoller[] = [];
    const sqsPollers: SqsPoller[] = [];
    stoppers.push(async () => {
      await Promise.all([...streamPollers, ...sqsPollers].map((poller) => poller.stop()));
      await checkpoints.flush();
    });

    const startStreamMapping = (mapping: StreamMappingDef, tableName: string, streamArn: string) => {
      const onFailureUrl = queueUrl(queues, mapping.onFailure);
      streamPollers.push(
        startStreamPoller({
          mappingId: `${mapping.function}:${tableName}`,
          mapping,
          streamArn,
          client: streamsClient,
          invoke: (name, event) => invoker.invoke(name, event),
          checkpoints,
          sendToOnFailure: async (body) => {
            await sqsClient.send(new SendMessageCommand({ QueueUrl: onFailureUrl, MessageBody: body }));
          },
          functionArn: localFunctionArn(mapping.function),
          ...(options.streamPollIntervalMs ? { pollIntervalMs: options.streamPollIntervalMs } : {}),
          onError: (error) => log(`[stream:${mapping.function}:${tableName}] ${describe(error)}`),
        }),
      );
    };

    const streamMappings: readonly StreamMappingDef[] = topology.streamMappings;
    for (const mapping of streamMappings) {
      if (disabled.has(mapping.function)) continue;
      const table = tables[mapping.table];
      if (!table?.streamArn)
        throw new Error(`Table ${mapping.table} has no stream for the ${mapping.function} mapping`);
      startStreamMapping(mapping, table.name, table.streamArn);
    }

    const publisherMapping = streamMappings.find((mapping) => mapping.function === 'publisher');
    const trackTable = async (tableName: string) => {
      if (!publisherMapping) throw new TrackedTableError('The topology has no publisher stream mapping');
      const described = await dynamoClient.send(new DescribeTableCommand({ TableName: tableName }));
      const streamArn = described.Table?.LatestStreamArn;
      if (!streamArn || described.Table?.StreamSpecification?.StreamEnabled === false) {
        throw new TrackedTableError(`Table ${tableName} has no enabled stream; a tracked table needs one`);
      }
      startStreamMapping(publisherMapping, tableName, streamArn);
    };
    for (const tableName of options.trackedTables ?? []) await trackTable(tableName);

    for (const mapping of topology.queueMappings) {
      if (disabled.has(mapping.function)) continue;
      const queue = queues.queues[mapping.queue];
      if (!queue) throw new Error(`Unknown queue ${mapping.queue} in the ${mapping.function} mapping`);
      const windowMs = options.batchingWindowMs?.[mapping.function];
      const concurrency =
        typeof options.sqsConcurrency === 'number'
          ? options.sqsConcurrency
          : (options.sqsConcurrency?.[mapping.function] ??
            ('maxConcurrency' in mapping ? mapping.maxConcurrency : undefined));
      sqsPollers.push(
        startSqsPoller({
          mapping,
          queue,
          client: sqsClient,
          invoke: (name, event) => invoker.invoke(name, event),
          ...(windowMs !== undefined ? { batchingWindowMs: windowMs } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
          onError: (error) => log(`[sqs:${mapping.function}] ${describe(error)}`),
        }),
      );
    }
    const consumedQueues = topology.queueMappings
      .filter((m) => !disabled.has(m.function))
      .map((m) => m.queue);

    const busyReasons = (since: number, ignore: ReadonlySet<string>): string[] => {
      const busy: string[] = [];
      if (invoker.inFlight > 0) busy.push(`${invoker.inFlight} invocation(s) running`);
      if (bus.inFlight > 0) busy.push(`${bus.inFlight} PutEvents request(s) in flight`);
      for (const key of consumedQueues) {
        if (ignore.has(key)) continue;
        const counts = queues.counts(key);
        const total = counts.visible + counts.inFlight + counts.delayed;
        if (total > 0) {
          busy.push(
            `queue ${key}: ${counts.visible} visible, ${counts.inFlight} in flight, ${counts.delayed} delayed`,
          );
        }
      }
      const pendingStreams = streamPollers.filter((poller) => (poller.idleSince() ?? -1) < since).length;
      if (pendingStreams > 0) busy.push(`${pendingStreams} stream mapping(s) not drained`);
      if (sqsPollers.some((poller) => poller.busy > 0)) busy.push('an SQS batch is being settled');
      return busy;
    };

    const runtime: Runtime = {
      endpoints,
      env,
      tables,
      queues,
      bus,
      invoker,
      gateway,
      control,
      dataDir,
      async waitForIdle({ timeoutMs = 60_000, ignoreQueues = [] } = {}) {
        const since = Date.now();
        const deadline = since + timeoutMs;
        const ignore = new Set(ignoreQueues);
        for (;;) {
          // Twice in a row, so a hand-over between two hops cannot look like idleness.
          if (busyReasons(since, ignore).length === 0) {
            await delay(30);
            if (busyReasons(since, ignore).length === 0) return;
          }
          if (Date.now() > deadline) throw new RuntimeNotIdleError(timeoutMs, busyReasons(since, ignore));
          await delay(50);
        }
      },
      trackTable,
      invoke: (functionName, event) => invoker.invoke(functionName, event),
      stop: stopAll,
    };
    log(`[runtime] ready: console ${endpoints.console}`);
    return runtime;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function queueUrl(queues: LocalQueues, key: string): string {
  const queue = queues.queues[key];
  if (!queue) throw new Error(`Unknown queue ${key} in the topology`);
  return queue.url;
}

function healthRoute(endpoints: RuntimeEndpoints) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://local').pathname !== '/health') return false;
    sendJson(res, 200, { status: 'ok', endpoints });
    return true;
  };
}

const replayRangeSchema = z.object({ from: z.string().optional(), to: z.string().optional() });

/** `GET /control/bus/archive?from&to` lists archived events; `POST /control/bus/replay {from?,to?}` re-sends them. */
function busRoutes(bus: LocalBus, archive: BusArchive) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname === '/control/bus/archive' && req.method === 'GET') {
      const from = url.searchParams.get('from') ?? undefined;
      const to = url.searchParams.get('to') ?? undefined;
      sendJson(res, 200, { events: archive.list({ ...(from ? { from } : {}), ...(to ? { to } : {}) }) });
      return true;
    }
    if (url.pathname === '/control/bus/replay' && req.method === 'POST') {
      const range = replayRangeSchema.safeParse(await readJsonBody(req));
      if (!range.success) {
        sendJson(res, 400, { error: 'BAD_REQUEST', message: range.error.message });
        return true;
      }
      const { from, to } = range.data;
      sendJson(res, 200, {
        replayed: await bus.replay({ ...(from ? { from } : {}), ...(to ? { to } : {}) }),
      });
      return true;
    }
    return false;
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
