/**
 * (b) Publisher throughput: synthetic stream batches of outbox rows (100 records, the topology's
 * batch size) through the publisher handler, in-process, against the local EventBridge endpoint
 * (the real `EventBridgeClient` over HTTP). Counts PutEvents calls: 100 per 1,000 small events is
 * the optimum (10 entries per call); large events are split by size and must never be rejected
 * for size by the local endpoint.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/constants.js';
import { createLocalBus } from '../../local/eventBridge/localBus.js';
import { startBusServer } from '../../local/eventBridge/server.js';
import { createLambdaContext } from '../../local/lambda/context.js';
import { topology } from '../../src/contract/topology.js';
import { PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_REQUEST_BYTES } from '../../src/core/limits.js';
import {
  figure,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutput,
  ScenarioSkipped,
} from '../lib/results.js';
import { benchRow, outboxInsertRecord, streamEvent } from '../lib/streamEvents.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUS_NAME = 'outbox-relay-bench-bus';

const batchResponseSchema = z.object({
  batchItemFailures: z.array(z.object({ itemIdentifier: z.string() })),
});
type PublisherHandler = (event: unknown, context: unknown) => Promise<unknown>;

interface BusCounters {
  calls: number;
  entries: number;
  rejectedRequests: number;
  rejectedForSize: number;
  delivered: number;
}

export const publisherScenario: Scenario = {
  name: 'publisher',
  title: '(b) Publisher throughput and PutEvents calls',
  budgetMs: 45_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const entry = join(ROOT, topology.functions.publisher.entry);
    if (!existsSync(entry))
      throw new ScenarioSkipped(`${topology.functions.publisher.entry} does not exist yet`);

    const counters: BusCounters = {
      calls: 0,
      entries: 0,
      rejectedRequests: 0,
      rejectedForSize: 0,
      delivered: 0,
    };
    const bus = createLocalBus({
      busName: BUS_NAME,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT_ID,
      rules: Object.entries(topology.bus.rules).map(([name, rule]) => ({
        name,
        pattern: rule.pattern,
        targetQueueUrl: `bench://${rule.targetQueue}`,
      })),
      // Routing is measured elsewhere (end-to-end); here the bus only counts what it would deliver.
      deliver: async (_queueUrl, events) => {
        counters.delivered += events.length;
      },
    });
    const countingBus: typeof bus = {
      ...bus,
      putEvents: async (request: unknown) => {
        counters.calls += 1;
        const entries = z.object({ Entries: z.array(z.unknown()) }).safeParse(request);
        if (entries.success) counters.entries += entries.data.Entries.length;
        try {
          return await bus.putEvents(request);
        } catch (error) {
          counters.rejectedRequests += 1;
          if (error instanceof Error && /size|over the limit/i.test(error.message))
            counters.rejectedForSize += 1;
          throw error;
        }
      },
      replay: (o) => bus.replay(o),
      setInterceptor: (i) => bus.setInterceptor(i),
    };
    const server = await startBusServer(countingBus);
    const previousEnv = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_EVENTBRIDGE: server.endpoint,
      // The quarantine is only written on failure; an unreachable endpoint makes such a failure loud.
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
      [topology.bus.env]: BUS_NAME,
      [topology.tables.quarantine.env]: 'outbox-relay-quarantine',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const notes: string[] = [];
    const figures: ScenarioOutput['figures'] = {};
    try {
      const module: unknown = await import(pathToFileURL(entry).href);
      const handlerValue =
        typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
      if (typeof handlerValue !== 'function')
        throw new ScenarioSkipped('the publisher module exports no handler');
      const handler: PublisherHandler = (event, lambdaContext) =>
        Promise.resolve(Reflect.apply(handlerValue, undefined, [event, lambdaContext]));
      const fn = topology.functions.publisher;
      const batchSize = topology.streamMappings[0]?.batchSize ?? 100;
      let failedRecords = 0;
      const invoke = async (
        payloadBytes: (i: number) => number,
        count: number,
        offset: number,
      ): Promise<void> => {
        const records = Array.from({ length: count }, (_, i) =>
          outboxInsertRecord(benchRow(offset + i, payloadBytes(offset + i))),
        );
        const response = batchResponseSchema.parse(
          await handler(
            streamEvent(records),
            createLambdaContext('publisher', fn.timeoutSeconds, fn.memoryMb),
          ),
        );
        failedRecords += response.batchItemFailures.length;
      };

      // 1. Small events (≈ 200 B of data): throughput and calls per 1,000.
      const smallTarget = context.quick ? 2_000 : 20_000;
      const smallDeadline = Date.now() + context.budgetMs * 0.5;
      await invoke(() => 200, batchSize, 0); // warm-up: module init, first connection
      Object.assign(counters, { calls: 0, entries: 0, delivered: 0 });
      let published = 0;
      const started = performance.now();
      while (published < smallTarget && Date.now() < smallDeadline) {
        await invoke(() => 200, batchSize, published);
        published += batchSize;
        if (published % 5_000 === 0) context.progress(`small events: ${published} published`);
      }
      const seconds = (performance.now() - started) / 1000;
      figures.smallEventsPublished = figure(published, 'events');
      figures.throughput = figure(published / seconds, 'records/s');
      figures.putEventsCallsPer1000Small = figure((counters.calls / published) * 1000, 'calls');
      figures.entriesPerCallSmall = figure(counters.entries / Math.max(1, counters.calls), 'entries/call');
      context.progress(
        `small: ${(published / seconds).toFixed(0)} records/s, ${((counters.calls / published) * 1000).toFixed(1)} calls per 1,000`,
      );

      // 2. Large events: 300 KB each (an outbox row is at most 400 KB), then a mix of 1 KB–350 KB.
      Object.assign(counters, { calls: 0, entries: 0, delivered: 0 });
      const largeCount = context.quick ? 30 : 100;
      for (let i = 0; i < largeCount; i += batchSize)
        await invoke(() => 300 * 1024, Math.min(batchSize, largeCount - i), i);
      const largeCalls = counters.calls;
      const perRequest = Math.floor(PUT_EVENTS_MAX_REQUEST_BYTES / (300 * 1024 + 600));
      figures.largeEvents = figure(largeCount, 'events of 300 KB');
      figures.putEventsCallsLarge = figure(largeCalls, 'calls');
      figures.putEventsCallsLargeOptimum = figure(
        Math.ceil(largeCount / Math.min(perRequest, PUT_EVENTS_MAX_ENTRIES)),
        'calls',
      );

      Object.assign(counters, { calls: 0, entries: 0, delivered: 0 });
      const mixedSize = (i: number): number =>
        [1024, 50 * 1024, 350 * 1024, 5 * 1024, 120 * 1024][i % 5] ?? 1024;
      const mixedCount = context.quick ? 50 : 200;
      for (let i = 0; i < mixedCount; i += batchSize)
        await invoke(mixedSize, Math.min(batchSize, mixedCount - i), i);
      figures.mixedEvents = figure(mixedCount, 'events of 1–350 KB');
      figures.putEventsCallsMixed = figure(counters.calls, 'calls');
      figures.rejectedForSize = figure(counters.rejectedForSize, 'requests');
      figures.rejectedRequests = figure(counters.rejectedRequests, 'requests');
      figures.failedRecords = figure(failedRecords, 'records');
      context.progress(
        `large: ${largeCalls} calls for ${largeCount}; mixed: ${counters.calls} calls for ${mixedCount}`,
      );
      notes.push(
        `Publisher handler invoked in-process with synthetic ${batchSize}-record stream batches, one after another (one shard); PutEvents over HTTP to the local bus (request limit ${PUT_EVENTS_MAX_REQUEST_BYTES} B).`,
        'Throughput excludes DynamoDB Streams polling (about 4 polls/s per shard in AWS): it is what one publisher invocation chain can push.',
        `Targets: putEventsCallsPer1000Small = 100; rejectedForSize = 0. Large: ${perRequest} entries of 300 KB fit one 1 MB request.`,
      );
      return { figures, notes };
    } finally {
      await server.stop();
      for (const key of Object.keys(process.env)) if (!(key in previousEnv)) delete process.env[key];
      Object.assign(process.env, previousEnv);
    }
  },
};
