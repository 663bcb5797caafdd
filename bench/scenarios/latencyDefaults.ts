/**
 * (i) Latency against messages: the fan-out's batching window. Events put on the fan-out queue
 * (the bus rule's shape) at 1, 40 and 200 events/s on one channel with 10 subscribers, once with
 * a window of 0 (`latencyWindow0`) and once with the deployed one (`latencyWindow1s`; a batch over
 * 10 requires at least 1 s in AWS). Per rate: delivery latency p50/p99 and WebSocket messages per
 * event per subscriber. One scenario per window: the window is a mapping setting, and a process
 * holds one runtime (the handlers cache their clients per process).
 */
import { busEventBody, stampedEnvelope } from '../lib/busEvents.js';
import { FleetHandle } from '../lib/fleet.js';
import { mintToken, startBenchRuntime } from '../lib/harness.js';
import { paced } from '../lib/pacer.js';
import { QueueInjector } from '../lib/queueInjector.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { percentile } from '../lib/stats.js';

const CHANNEL = 'window';
/** What the stack deploys for the fan-out mapping (batch 100 needs a window of at least 1 s). */
const DEPLOYED_WINDOW_MS = 1000;

export const latencyWindow0Scenario = windowScenario('latencyWindow0', 0);
export const latencyWindow1sScenario = windowScenario('latencyWindow1s', DEPLOYED_WINDOW_MS);

function windowScenario(name: string, windowMs: number): Scenario {
  return {
    name,
    title: `(i) Fan-out batching window ${windowMs} ms: latency and messages per event at 1, 40, 200 events/s`,
    budgetMs: 200_000,
    async run(context: ScenarioContext): Promise<ScenarioOutput> {
      const seconds = Number(process.env.BENCH_WINDOW_SECONDS ?? (context.quick ? 5 : 15));
      const rates = (process.env.BENCH_WINDOW_RATES ?? '1,40,200').split(',').map(Number);
      const subscribers = 10;
      const figures: ScenarioOutput['figures'] = {};
      const notes: string[] = [];
      const put = (name: string, value: number, unit: string): void => {
        if (Number.isFinite(value)) figures[name] = figure(value, unit);
      };
      {
        const runtime = await startBenchRuntime({
          disabledMappings: ['audit', 'webhookDispatcher', 'webhookDelivery'],
          batchingWindowMs: { fanout: windowMs },
        });
        const fleet = await FleetHandle.start(context.progress);
        const injector = QueueInjector.forQueue(runtime, 'fanoutQueue');
        try {
          const token = await mintToken(runtime, 'window-bench');
          await fleet.connect(runtime.endpoints.webSocket, token, CHANNEL, subscribers, 10);
          // Warm-up: module loads, first posts.
          await injector.send([busEventBody(stampedEnvelope(CHANNEL))]);
          await fleet.waitForEvents(1, 60_000);
          for (const rate of rates) {
            await fleet.reset();
            const events = Math.max(10, Math.round(rate * seconds));
            // Batches of up to 10 per SendMessageBatch, spread evenly over the second.
            const perSend = Math.min(10, Math.max(1, Math.round(rate / 20)));
            const sends = Math.ceil(events / perSend);
            await paced(sends, rate / perSend, () =>
              injector.send(Array.from({ length: perSend }, () => busEventBody(stampedEnvelope(CHANNEL)))),
            );
            const complete = await fleet.waitForEvents(sends * perSend, 60_000);
            const report = await fleet.report();
            const key = `w${windowMs}.r${rate}`;
            put(`${key}.events`, sends * perSend, 'events');
            put(`${key}.p50`, percentile(report.latencies, 50), 'ms');
            put(`${key}.p99`, percentile(report.latencies, 99), 'ms');
            put(
              `${key}.messagesPerEventPerSubscriber`,
              report.eventMessages / Math.max(1, report.eventsReceived),
              'messages',
            );
            if (!complete)
              notes.push(`window ${windowMs} ms, ${rate}/s: not every event arrived within 60 s.`);
            context.progress(
              `window ${windowMs} ms, ${rate}/s: p50 ${percentile(report.latencies, 50).toFixed(0)} ms, p99 ${percentile(report.latencies, 99).toFixed(0)} ms, ${(report.eventMessages / Math.max(1, report.eventsReceived)).toFixed(3)} messages/event/subscriber`,
            );
            await runtime.waitForIdle({ timeoutMs: 30_000 }).catch(() => undefined);
          }
        } finally {
          injector.destroy();
          await fleet.close();
          await runtime.stop();
        }
      }
      notes.push(
        `${subscribers} subscribers on one channel; events put on the fan-out queue for ${seconds} s per rate (at least 10 events); fan-out batch 100, coalescing on (default), window ${windowMs} ms (the stack deploys ${DEPLOYED_WINDOW_MS} ms). Latency = WebSocket receipt − the envelope's send stamp.`,
      );
      return { figures, notes };
    },
  };
}
