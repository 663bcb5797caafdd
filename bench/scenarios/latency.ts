/**
 * (c) End-to-end latency: outbox write → WebSocket client receipt, and → webhook receipt,
 * p50/p95/p99 over at least 2,000 events written at a steady rate, through the whole offline
 * runtime (DynamoDB Local stream → publisher → local bus → SQS → fan-out / webhook dispatch →
 * delivery) with the topology's settings (batching windows 0).
 */
import { FleetHandle } from '../lib/fleet.js';
import {
  addWebhookEndpoint,
  documentClient,
  mintToken,
  startBenchRuntime,
  writeStampedEvent,
} from '../lib/harness.js';
import { HopTimer } from '../lib/hopTimer.js';
import { paced } from '../lib/pacer.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { percentile, waitFor } from '../lib/stats.js';
import { startWebhookReceiver } from '../lib/webhookReceiver.js';

const CHANNEL = 'latency';

export const latencyScenario: Scenario = {
  name: 'latency',
  title: '(c) End-to-end latency: outbox write → WebSocket / webhook receipt',
  budgetMs: 100_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const events = context.quick ? 200 : 2_000;
    const rate = context.quick ? 20 : 40;
    const hops = new HopTimer();
    const runtime = await startBenchRuntime({ invocationInterceptor: hops.interceptor });
    const fleet = await FleetHandle.start(context.progress);
    const receiver = await startWebhookReceiver();
    const client = documentClient(runtime);
    try {
      await fleet.connect(
        runtime.endpoints.webSocket,
        await mintToken(runtime, 'latency-bench'),
        CHANNEL,
        1,
        1,
      );
      await addWebhookEndpoint(client, runtime, receiver.url, { timeoutSeconds: 10 });

      // Warm-up: module loads, first connections, shard discovery.
      for (let i = 0; i < 10; i++) await writeStampedEvent(client, runtime, CHANNEL);
      await fleet.waitForEvents(10, 60_000);
      await waitFor(() => receiver.requests >= 10, { timeoutMs: 60_000, what: 'warm-up webhooks' });
      await fleet.reset();
      receiver.reset();
      hops.reset();

      context.progress(`writing ${events} events at ${rate}/s`);
      const written = await paced(events, rate, () => writeStampedEvent(client, runtime, CHANNEL), {
        onProgress: (n) => context.progress(`${n} written; ${receiver.requests} webhooks received`),
      });
      const drainMs = Math.max(20_000, context.budgetMs - (events / rate) * 1000 - 25_000);
      const wsComplete = await fleet.waitForEvents(events - written.failed, drainMs);
      await waitFor(() => receiver.distinct >= events - written.failed, {
        timeoutMs: drainMs,
        what: 'every webhook',
      }).catch(() => undefined);
      const report = await fleet.report();
      const ws = report.latencies;
      const hooks = receiver.latencies;
      const figures: ScenarioOutput['figures'] = {
        eventsWritten: figure(events - written.failed, 'events'),
        writeRate: figure(written.achievedRate, 'events/s'),
        websocketReceived: figure(report.eventsReceived, 'events'),
        websocketP50: figure(percentile(ws, 50), 'ms'),
        websocketP95: figure(percentile(ws, 95), 'ms'),
        websocketP99: figure(percentile(ws, 99), 'ms'),
        websocketMax: figure(percentile(ws, 100), 'ms'),
        websocketMessagesPerEvent: figure(
          report.eventMessages / Math.max(1, report.eventsReceived),
          'messages/event',
        ),
        webhookReceived: figure(receiver.distinct, 'deliveries'),
        webhookP50: figure(percentile(hooks, 50), 'ms'),
        webhookP95: figure(percentile(hooks, 95), 'ms'),
        webhookP99: figure(percentile(hooks, 99), 'ms'),
        webhookMax: figure(percentile(hooks, 100), 'ms'),
        duplicates: figure(report.duplicates + (receiver.requests - receiver.distinct), 'deliveries'),
      };
      // Where the time goes: when each record reached each handler, after the write.
      for (const [fn, samples] of hops.samples) {
        figures[`hop.${fn}.p50`] = figure(percentile(samples, 50), 'ms after write');
        figures[`hop.${fn}.p99`] = figure(percentile(samples, 99), 'ms after write');
      }
      const notes = [
        `${events} events written with appendToOutbox at a steady ${rate}/s to one channel; 1 WebSocket subscriber and 1 webhook endpoint (local receiver answering 204). Latency = receipt time − data.sentAt (stamped just before the write).`,
        'Topology settings (batching windows 0, stream polled every 250 ms); all handlers in one Node process beside DynamoDB Local (JVM) and fauxqs, on a shared 2-core machine.',
      ];
      if (!wsComplete)
        notes.push(
          'Not every WebSocket event arrived within the drain time; percentiles cover those that did.',
        );
      if (written.failed > 0) notes.push(`${written.failed} writes failed: ${written.errors.join('; ')}`);
      return { figures, notes };
    } finally {
      await fleet.close();
      await receiver.stop();
      client.destroy();
      await runtime.stop();
    }
  },
};
