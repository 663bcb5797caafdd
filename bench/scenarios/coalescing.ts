/**
 * (g) Coalescing: one channel, 100 subscribers, 200 events/s for 30 s put on the fan-out
 * queue (the bus rule's shape), with coalescing off and then on, in the same run and runtime
 * (`FANOUT_COALESCE` is read per invocation). Figures per mode: WebSocket messages per event per
 * subscriber, `@connections` calls, 32 KB units, delivery latency p50/p95/p99 — and the latency
 * coalescing adds, against the unloaded latency of one event at a time with coalescing off.
 */
import { topology } from '../../src/contract/topology.js';
import { busEventBody, stampedEnvelope } from '../lib/busEvents.js';
import { FleetHandle } from '../lib/fleet.js';
import { mintToken, startBenchRuntime } from '../lib/harness.js';
import { paced } from '../lib/pacer.js';
import { QueueInjector } from '../lib/queueInjector.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { percentile } from '../lib/stats.js';

const CHANNEL = 'coalesce';

export const coalescingScenario: Scenario = {
  name: 'coalescing',
  title: '(g) Coalescing on/off: messages per event per subscriber, calls, units, added latency',
  budgetMs: 150_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const subscribers = context.quick ? 20 : 100;
    const rate = context.quick ? 100 : 200;
    const seconds = context.quick ? 5 : 30;
    const events = rate * seconds;
    // Fan-out invocations: when each started and how many records it got (the mapping runs one batch at a time).
    const invocations: { at: number; records: number }[] = [];
    const runtime = await startBenchRuntime({
      disabledMappings: ['audit', 'webhookDispatcher', 'webhookDelivery'],
      invocationInterceptor: (fn, event) => {
        if (fn !== 'fanout') return;
        const records =
          typeof event === 'object' && event !== null ? Reflect.get(event, 'Records') : undefined;
        invocations.push({ at: performance.now(), records: Array.isArray(records) ? records.length : 0 });
      },
    });
    const fleet = await FleetHandle.start(context.progress);
    const injector = QueueInjector.forQueue(runtime, 'fanoutQueue');
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [];
    const previousCoalesce = process.env.FANOUT_COALESCE;
    try {
      const connected = await fleet.connect(
        runtime.endpoints.webSocket,
        await mintToken(runtime, 'coalesce-bench'),
        CHANNEL,
        subscribers,
        50,
      );
      if (connected.failed > 0)
        notes.push(`${connected.failed} subscribers failed to connect: ${connected.errors.join('; ')}`);

      // Baseline: one event at a time, coalescing off, nothing else queued.
      process.env.FANOUT_COALESCE = 'false';
      await fleet.reset();
      const baselineEvents = 20;
      for (let i = 0; i < baselineEvents; i++) {
        await injector.send([busEventBody(stampedEnvelope(CHANNEL))]);
        await fleet.waitForEvents(i + 1, 30_000);
      }
      const baseline = (await fleet.report()).latencies;
      figures['baseline.p50'] = figure(percentile(baseline, 50), 'ms');
      figures['baseline.p95'] = figure(percentile(baseline, 95), 'ms');
      figures['baseline.p99'] = figure(percentile(baseline, 99), 'ms');
      context.progress(`baseline (one event at a time, off): p50 ${percentile(baseline, 50).toFixed(0)} ms`);

      const run = async (mode: 'off' | 'on', drainSeconds: number): Promise<void> => {
        process.env.FANOUT_COALESCE = mode === 'on' ? 'true' : 'false';
        await fleet.reset();
        runtime.gateway.resetStats();
        invocations.length = 0;
        const t0 = performance.now();
        // 10 events per SendMessageBatch, every 50 ms = 200 events/s.
        const batches = events / 10;
        await paced(
          batches,
          rate / 10,
          () => injector.send(Array.from({ length: 10 }, () => busEventBody(stampedEnvelope(CHANNEL)))),
          {
            onProgress: (n) => context.progress(`${mode}: ${n * 10} events sent`),
            progressEvery: Math.max(1, Math.round(batches / 6)),
          },
        );
        const complete = await fleet.waitForEvents(events, drainSeconds * 1000);
        const elapsed = (performance.now() - t0) / 1000;
        const report = await fleet.report();
        const stats = runtime.gateway.stats();
        const delivered = report.eventsReceived;
        figures[`${mode}.eventsSent`] = figure(events, 'events');
        figures[`${mode}.eventDeliveries`] = figure(delivered, 'event deliveries');
        figures[`${mode}.messagesPerEventPerSubscriber`] = figure(
          report.eventMessages / Math.max(1, delivered),
          'messages',
        );
        figures[`${mode}.connectionsCalls`] = figure(stats.postCalls, 'calls');
        figures[`${mode}.messageUnits32KB`] = figure(stats.units, 'units');
        figures[`${mode}.maxMessageBytes`] = figure(report.maxMessageBytes, 'bytes');
        figures[`${mode}.duplicates`] = figure(report.duplicates, 'events');
        figures[`${mode}.outOfOrder`] = figure(report.outOfOrder, 'events');
        figures[`${mode}.p50`] = figure(percentile(report.latencies, 50), 'ms');
        figures[`${mode}.p95`] = figure(percentile(report.latencies, 95), 'ms');
        figures[`${mode}.p99`] = figure(percentile(report.latencies, 99), 'ms');
        figures[`${mode}.deliveriesPerSecond`] = figure(delivered / elapsed, 'event deliveries/s');
        const gaps = invocations.slice(1).map((inv, i) => inv.at - (invocations[i]?.at ?? inv.at));
        figures[`${mode}.fanoutInvocations`] = figure(invocations.length, 'invocations');
        figures[`${mode}.fanoutRecordsPerInvocation`] = figure(
          invocations.reduce((sum, inv) => sum + inv.records, 0) / Math.max(1, invocations.length),
          'records',
        );
        figures[`${mode}.fanoutInvocationIntervalP50`] = figure(percentile(gaps, 50), 'ms');
        if (!complete) {
          notes.push(
            `Coalescing ${mode}: ${delivered} of ${events * subscribers} event deliveries within ${drainSeconds} s of draining; the rest were dropped from the queue (purged) to bound the run. Latencies cover delivered events only.`,
          );
        }
        context.progress(
          `${mode}: ${(report.eventMessages / Math.max(1, delivered)).toFixed(3)} messages/event/subscriber, ${stats.postCalls} calls, p99 ${percentile(report.latencies, 99).toFixed(0)} ms`,
        );
        await injector.purge().catch(() => undefined);
        await runtime.waitForIdle({ timeoutMs: 60_000 }).catch(() => undefined);
      };

      await run('off', 20);
      await run('on', 30);
      for (const p of ['p50', 'p95', 'p99'] as const) {
        const on = figures[`on.${p}`]?.value ?? Number.NaN;
        const base = figures[`baseline.${p}`]?.value ?? Number.NaN;
        figures[`addedLatency.${p}`] = figure(on - base, 'ms');
      }
      const fanoutMapping = topology.queueMappings.find((m) => m.function === 'fanout');
      notes.push(
        `${subscribers} subscribers on one channel; ${rate} events/s for ${seconds} s put on the fan-out queue in batches of 10 every ${1000 / (rate / 10)} ms; fan-out mapping batch ${fanoutMapping?.batchSize}, window ${fanoutMapping?.maxBatchingWindowSeconds} s (topology), max 50 events per frame (default).`,
        'addedLatency = coalescing-on percentile at full load − baseline percentile (one event at a time, coalescing off, idle runtime). Targets: on.messagesPerEventPerSubscriber ≤ 0.2, addedLatency.p99 ≤ 100 ms.',
      );
      return { figures, notes };
    } finally {
      if (previousCoalesce === undefined) delete process.env.FANOUT_COALESCE;
      else process.env.FANOUT_COALESCE = previousCoalesce;
      injector.destroy();
      await fleet.close();
      await runtime.stop();
    }
  },
};
