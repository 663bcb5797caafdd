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
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { type FunctionDef, type StreamMappingDef, topology } from '../src/contract/topology.js';
import { createConsoleHandler } from './console/index.js';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './constants.js';
import { type ControlServer, readJsonBody, sendJson, startControlServer } from './controlServer.js';
import { type DynamoLocal, type DynamoLocalExit, startDynamoLocal } from './dynamo.js';
import { DynamoLocalDiedError, RuntimeNotIdleError, TrackedTableError } from './errors.js';
import { type BusArchive, createBusArchive } from './eventBridge/archive.js';
import { createLocalBus, type EntryInterceptor, type LocalBus } from './eventBridge/localBus.js';
import { startBusServer } from './eventBridge/server.js';
import { startWebSocketGateway, type WebSocketGateway } from './gateway/index.js';
import { createInvoker, type InvocationInterceptor, type Invoker } from './lambda/invoker.js';
import {
  type CheckpointStore,
  checkpointFilePath,
  createFileCheckpointStore,
  createMemoryCheckpointStore,
  migrateCheckpointFile,
} from './pollers/checkpoints.js';
import { type SqsPoller, startSqsPoller } from './pollers/sqsPoller.js';
import { type StreamPoller, startStreamPoller } from './pollers/streamPoller.js';
import {
  describeCounts,
  type QueueMessageCounts,
  queueSnapshotPath,
  restoreQueueSnapshot,
  writeQueueSnapshot,
} from './queueSnapshot.js';
import { type LocalQueues, startQueues } from './queues.js';
import { LOCAL_EVENT_BUS_NAME, localFunctionArn } from './resourceNames.js';
import { baseAwsEnv, devJwtPreviousSecret, devJwtSecret, runtimeEnv } from './runtimeEnv.js';
import { createSupervisor, type PartStatus } from './supervisor.js';
import { createTables, type LocalTable } from './tables.js';
import { webhooksApiRoute } from './webhooksApiRoute.js';

const ROOT_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface RuntimeOptions {
  /** Persist DynamoDB tables, stream checkpoints, the bus archive and the JWT secret here; in memory when absent. */
  readonly dataDir?: string;
  /** No log lines (errors of handlers included), except outages of a part and checkpoints that do not fit the database. */
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
  /**
   * How long stop() lets running invocations finish before it snapshots the queues anyway (their
   * messages are then in the snapshot, in flight, and re-delivered after the restart). @default 30000
   */
  readonly drainTimeoutMs?: number;
  /**
   * Called when a part died and could not be brought back (DynamoDB Local's JVM of an in-memory
   * runtime, or one that keeps dying): the runtime cannot keep its promise and should be stopped.
   * Default: log the error and stop the runtime.
   */
  readonly onFatal?: (error: Error) => void;
}

export type RuntimeEndpoints = {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly eventBridge: string;
  readonly webSocket: string;
  readonly managementApi: string;
  readonly console: string;
  readonly control: string;
  /** The tenant webhook API (routes under `/webhooks`, docs/webhooks-api.yaml). */
  readonly webhooksApi?: string;
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
  /** Messages the previous run left in its queue snapshot and this start sent back (undefined: no snapshot). */
  readonly restoredQueues: QueueMessageCounts | undefined;
  /** State of every part (`/health` serves it). */
  health(): { healthy: boolean; parts: Readonly<Record<string, PartStatus>> };
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
  // Outages and checkpoints that do not fit are printed even when quiet: they explain delays and duplicates.
  const warn = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const supervisor = createSupervisor((line) =>
    options.quiet && !line.startsWith('[supervisor]') ? undefined : warn(line),
  );

  const stoppers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
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
    // The supervisor may replace the JVM: stop whichever one is current.
    let currentDynamo: DynamoLocal | undefined;
    dynamoStarting
      .then((dynamo) => {
        currentDynamo = dynamo;
        stoppers.push(() => currentDynamo?.stop() ?? Promise.resolve());
      })
      .catch(() => {});
    const queues = await startQueues(options.ports?.sqs ? { port: options.ports.sqs } : {});
    stoppers.push(async () => {
      // After the pollers stopped: what is still queued survives the stop (restored on the next start).
      if (dataDir) {
        try {
          const saved = writeQueueSnapshot(queues, queueSnapshotPath(dataDir));
          log(`[runtime] queues saved for the next start: ${describeCounts(saved)}`);
        } catch (error) {
          log(
            `[runtime] the queue snapshot could not be written (the next start replays the bus archive): ${describe(error)}`,
          );
        }
      }
      await queues.stop();
    });

    const sqsClient = new SQSClient({
      endpoint: queues.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    stoppers.push(async () => sqsClient.destroy());
    // Before any poller: the previous run's queued messages go back first.
    const restoredQueues = dataDir
      ? await restoreQueueSnapshot(sqsClient, queues, queueSnapshotPath(dataDir))
      : undefined;
    if (restoredQueues)
      log(`[runtime] queues restored from the previous run: ${describeCounts(restoredQueues)}`);

    const invoker = createInvoker({
      rootDir: ROOT_DIR,
      ...(options.invocationInterceptor ? { interceptor: options.invocationInterceptor } : {}),
      onError: (functionName, error) => supervisor.report(`lambda:${functionName}`, describe(error)),
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
    supervisor.up('dynamodb', `DynamoDB Local (pid ${dynamo.pid})`);
    const fatal = (error: Error) => {
      if (stopping) return;
      if (options.onFatal) options.onFatal(error);
      else {
        log(`[runtime] ${error.message}; stopping`);
        void stopAll();
      }
    };
    // The JVM can die under us (OOM killer, a stray kill): restart it on the same port and data
    // directory so every client keeps its endpoint, or give up loudly.
    const restarts: number[] = [];
    const supervise = (instance: DynamoLocal) => {
      instance.exited.then(async (exit: DynamoLocalExit) => {
        if (stopping || currentDynamo !== instance) return;
        const how = `the DynamoDB Local JVM (pid ${instance.pid}) exited (code ${exit.code ?? 'none'}, signal ${exit.signal ?? 'none'})`;
        if (!dataDir) {
          supervisor.down('dynamodb', how);
          fatal(new DynamoLocalDiedError(`${how}; the runtime runs in memory, so its tables are gone`));
          return;
        }
        const now = Date.now();
        while (restarts.length > 0 && (restarts[0] ?? 0) < now - DYNAMO_RESTART_WINDOW_MS) restarts.shift();
        if (restarts.length >= DYNAMO_MAX_RESTARTS) {
          supervisor.down('dynamodb', how);
          fatal(
            new DynamoLocalDiedError(
              `${how}, the ${restarts.length + 1}th time in ${DYNAMO_RESTART_WINDOW_MS / 60_000} minutes. Its output:\n${exit.output}`,
            ),
          );
          return;
        }
        restarts.push(now);
        supervisor.down('dynamodb', `${how}; restarting it on port ${instance.port}`, 'restarting');
        try {
          const next = await startDynamoLocal({ dataDir, port: instance.port });
          if (stopping) {
            await next.stop();
            return;
          }
          currentDynamo = next;
          supervise(next);
          // What failed because the JVM was gone is retried now, not after its visibility timeout (minutes).
          let released = 0;
          for (const poller of sqsPollers) {
            released += await poller.retryFailedSince(now - OUTAGE_MARGIN_MS).catch(() => 0);
          }
          supervisor.up(
            'dynamodb',
            `restarted (pid ${next.pid}); stream pollers resume from their checkpoints, ${released} failed message(s) retried now`,
          );
        } catch (error) {
          supervisor.down('dynamodb', `${how}; the restart failed`);
          fatal(
            new DynamoLocalDiedError(`${how} and could not be restarted: ${describe(error)}`, {
              cause: error,
            }),
          );
        }
      });
    };
    supervise(dynamo);
    for (const part of ['sqs', 'eventBridge', 'webSocket', 'control']) supervisor.up(part, 'in process');
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
      webhooksApi: control.url,
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

    const probeClient = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    stoppers.push(async () => probeClient.destroy());
    // A live JVM that no longer answers is as down as a dead one.
    const probeDynamo = async (): Promise<string | undefined> => {
      if (supervisor.parts().dynamodb?.state !== 'up') return undefined;
      try {
        await probeClient.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(2000),
        });
        return undefined;
      } catch (error) {
        return `DynamoDB Local does not answer: ${describe(error)}`;
      }
    };
    const health = () => ({ healthy: supervisor.healthy(), parts: supervisor.parts() });
    control.addRoute(healthRoute(endpoints, health, probeDynamo));
    control.addRoute(busRoutes(bus, archive));
    control.addRoute(webhooksApiRoute(invoker));
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

    if (dataDir) migrateCheckpointFile(dataDir);
    const checkpoints: CheckpointStore = dataDir
      ? createFileCheckpointStore(checkpointFilePath(dataDir))
      : createMemoryCheckpointStore();
    const streamPollers: StreamPoller[] = [];
    const sqsPollers: SqsPoller[] = [];
    stoppers.push(async () => {
      // Stop taking work, let what runs finish (bounded), then keep the checkpoints.
      const drained = Promise.all([...streamPollers, ...sqsPollers].map((poller) => poller.stop()));
      const drainMs = options.drainTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((done) => {
          timer = setTimeout(() => done(true), drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log(
          `[runtime] stop: ${invoker.inFlight} invocation(s) still running after ${drainMs} ms; their messages stay queued (in the snapshot) and their stream records after the checkpoint`,
        );
      }
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
          onError: (error) => supervisor.report(`stream:${mapping.function}:${tableName}`, describe(error)),
          onNotice: (line) => warn(`[stream:${mapping.function}:${tableName}] ${line}`),
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
      // A tracked table's updates and deletes are events too: no INSERT-only filter there.
      startStreamMapping({ ...publisherMapping, filterEventNames: undefined }, tableName, streamArn);
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
          onError: (error) => supervisor.report(`sqs:${mapping.function}`, describe(error)),
          // Printed even when quiet, like the outage itself: it explains a delivery after the restart.
          onRetriedAfterOutage: (count) =>
            warn(
              `[sqs:${mapping.function}] ${count} message(s) failed just after an outage; retried in 2 s, not after the visibility timeout`,
            ),
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
      restoredQueues,
      health,
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

/** Restarts of a dead DynamoDB Local JVM allowed within the window before the runtime gives up. */
const DYNAMO_MAX_RESTARTS = 3;
const DYNAMO_RESTART_WINDOW_MS = 5 * 60_000;
/** Messages that failed this long before the JVM's death was noticed failed because of it too. */
const OUTAGE_MARGIN_MS = 5_000;

/** `GET /health`: 200 when every part is up, 503 (naming the part) when one is not. */
function healthRoute(
  endpoints: RuntimeEndpoints,
  health: () => { healthy: boolean; parts: Readonly<Record<string, PartStatus>> },
  probeDynamo: () => Promise<string | undefined>,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://local').pathname !== '/health') return false;
    const unanswered = await probeDynamo();
    const { healthy, parts } = health();
    const current = unanswered
      ? {
          ...parts,
          dynamodb: { state: 'down' as const, since: new Date().toISOString(), detail: unanswered },
        }
      : parts;
    const ok = healthy && !unanswered;
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', parts: current, endpoints });
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
