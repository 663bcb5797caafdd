/**
 * (e) Webhook throughput: events put on the webhook dispatch queue (as the bus rule does) → the
 * dispatcher (one delivery message per event and endpoint) → the delivery handler → local
 * receivers answering 204. Then the same with one more endpoint that never answers (its timeout
 * shortened to 2 s to fit the run): the deliveries/s and latency of the healthy endpoints show
 * what one hanging endpoint does to the others, without and with the per-endpoint circuit breaker.
 */

import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { busEventBody, stampedEnvelope } from '../lib/busEvents.js';
import { addWebhookEndpoint, BENCH_TENANT, documentClient, startBenchRuntime } from '../lib/harness.js';
import { paced } from '../lib/pacer.js';
import { QueueInjector } from '../lib/queueInjector.js';
import { figure, type Scenario, type ScenarioContext, type ScenarioOutput } from '../lib/results.js';
import { percentile, waitFor } from '../lib/stats.js';
import { startWebhookReceiver, type WebhookReceiver } from '../lib/webhookReceiver.js';

const HEALTHY_ENDPOINTS = 4;
const HANGING_TIMEOUT_SECONDS = 2;

function endpointsRepository(
  client: ReturnType<typeof documentClient>,
  runtime: Parameters<typeof documentClient>[0],
) {
  const tableName = runtime.env[topology.tables.webhookEndpoints.env];
  if (!tableName) throw new Error('the runtime has no webhook endpoints table');
  return createWebhookEndpointsRepository({ client, tableName });
}

function total(receivers: readonly WebhookReceiver[]): number {
  return receivers.reduce((sum, r) => sum + r.distinct, 0);
}

export const webhooksScenario: Scenario = {
  name: 'webhooks',
  title: '(e) Webhook delivery throughput, and one endpoint that times out',
  budgetMs: 80_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const events = context.quick ? 50 : 250;
    const rate = 50;
    const runtime = await startBenchRuntime({ disabledMappings: ['audit', 'fanout'] });
    const client = documentClient(runtime);
    const injector = QueueInjector.forQueue(runtime, 'webhookDispatchQueue');
    const deliveryQueue = QueueInjector.forQueue(runtime, 'webhookDeliveryQueue');
    const healthy = await Promise.all(
      Array.from({ length: HEALTHY_ENDPOINTS }, () => startWebhookReceiver()),
    );
    const hanging = await startWebhookReceiver({ hang: true });
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [];
    try {
      for (const r of healthy)
        await addWebhookEndpoint(client, runtime, r.url, { timeoutSeconds: 10, maxAttempts: 3 });

      const phase = async (label: string, maxSeconds: number): Promise<void> => {
        for (const r of healthy) r.reset();
        const expected = events * HEALTHY_ENDPOINTS;
        const t0 = performance.now();
        await paced(events, rate, () => injector.send([busEventBody(stampedEnvelope('webhooks'))]), {
          onProgress: () => context.progress(`${label}: ${total(healthy)} of ${expected} healthy deliveries`),
        });
        const complete = await waitFor(() => total(healthy) >= expected, {
          timeoutMs: maxSeconds * 1000,
          what: `${label} deliveries`,
        }).then(
          () => true,
          () => false,
        );
        const seconds = (performance.now() - t0) / 1000;
        const latencies = healthy.flatMap((r) => r.latencies);
        figures[`${label}.healthyDeliveries`] = figure(total(healthy), 'deliveries');
        figures[`${label}.healthyDeliveriesPerSecond`] = figure(total(healthy) / seconds, 'deliveries/s');
        figures[`${label}.healthyP50`] = figure(percentile(latencies, 50), 'ms');
        figures[`${label}.healthyP95`] = figure(percentile(latencies, 95), 'ms');
        figures[`${label}.healthyP99`] = figure(percentile(latencies, 99), 'ms');
        if (!complete)
          notes.push(
            `${label}: ${total(healthy)} of ${expected} healthy deliveries within ${maxSeconds} s (bounded).`,
          );
        context.progress(
          `${label}: ${(total(healthy) / seconds).toFixed(1)} deliveries/s to healthy endpoints`,
        );
      };

      const deliveryMapping = topology.queueMappings.find((m) => m.function === 'webhookDelivery');
      await phase('allHealthy', 30);
      await runtime.waitForIdle({ timeoutMs: 30_000 }).catch(() => undefined);
      const first = await addWebhookEndpoint(client, runtime, hanging.url, {
        timeoutSeconds: HANGING_TIMEOUT_SECONDS,
        maxAttempts: 1,
      });
      await phase('withOneHanging', 25);
      figures['withOneHanging.hangingRequests'] = figure(hanging.requests, 'requests');

      // The same with the circuit breaker on (what the stack deploys): the hanging endpoint's
      // deliveries are deferred after 3 failures instead of holding batches. A fresh hanging
      // endpoint; the first one is disabled and the queue purged so the phase starts clean.
      await endpointsRepository(client, runtime).setEnabled(
        BENCH_TENANT,
        first.id,
        false,
        'bench',
        new Date(),
      );
      await deliveryQueue.purge().catch(() => undefined);
      await runtime.waitForIdle({ timeoutMs: 30_000 }).catch(() => undefined);
      const hangingBefore = hanging.requests;
      process.env.WEBHOOK_CIRCUIT_FAILURES = '3';
      await addWebhookEndpoint(client, runtime, hanging.url, {
        timeoutSeconds: HANGING_TIMEOUT_SECONDS,
        maxAttempts: 1,
      });
      await phase('withOneHangingCircuit', 25);
      delete process.env.WEBHOOK_CIRCUIT_FAILURES;
      figures['withOneHangingCircuit.hangingRequests'] = figure(hanging.requests - hangingBefore, 'requests');
      notes.push(
        `${events} events at ${rate}/s put on the webhook dispatch queue (bus-rule shape); ${HEALTHY_ENDPOINTS} endpoints answering 204 at once, then a 5th endpoint that never answers (timeout ${HANGING_TIMEOUT_SECONDS} s, 1 attempt), then a fresh such endpoint with the circuit breaker on (WEBHOOK_CIRCUIT_FAILURES=3, cool-down 30 s; the stack deploys 5). Latency = receipt − data.sentAt (stamped when the event was put on the queue).`,
        `Delivery mapping (topology): batch ${deliveryMapping?.batchSize}, batching window ${deliveryMapping?.maxBatchingWindowSeconds} s, ${deliveryMapping && 'maxConcurrency' in deliveryMapping ? deliveryMapping.maxConcurrency : 1} batch(es) at a time.`,
      );
      return { figures, notes };
    } finally {
      injector.destroy();
      deliveryQueue.destroy();
      client.destroy();
      await Promise.all([...healthy, hanging].map((r) => r.stop()));
      await runtime.stop();
    }
  },
};
