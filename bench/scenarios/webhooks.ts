/**
 * (e) Webhook fairness: 100 events put on the webhook dispatch queue (as the bus rule does) →
 * the dispatcher (one delivery message per event and endpoint) → the delivery handler → local
 * receivers. First a healthy endpoint alone; then a fresh healthy endpoint beside one that never
 * answers (timeout 10 s) and one that answers 204 after 4 s. The figure is the healthy
 * endpoint's time for all 100 events in each phase, and their ratio (the target is ≤ 1.2: one
 * endpoint's slowness or failure costs only that endpoint).
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

const EVENTS = 100;
const RATE = 100;
const HANGING_TIMEOUT_SECONDS = 10;
const SLOW_ANSWER_MS = 4_000;

export const webhooksScenario: Scenario = {
  name: 'webhooks',
  title: '(e) Webhook fairness: a healthy endpoint alone, then beside a hanging and a slow one',
  budgetMs: 90_000,
  async run(context: ScenarioContext): Promise<ScenarioOutput> {
    const runtime = await startBenchRuntime({ disabledMappings: ['audit', 'fanout'] });
    const client = documentClient(runtime);
    const endpoints = createWebhookEndpointsRepository({
      client,
      tableName: runtime.env[topology.tables.webhookEndpoints.env] ?? '',
    });
    const injector = QueueInjector.forQueue(runtime, 'webhookDispatchQueue');
    const receivers: WebhookReceiver[] = [];
    const figures: ScenarioOutput['figures'] = {};
    const notes: string[] = [];
    try {
      const phase = async (label: string, healthy: WebhookReceiver): Promise<number> => {
        const t0 = performance.now();
        await paced(EVENTS, RATE, () => injector.send([busEventBody(stampedEnvelope('webhooks'))]));
        await waitFor(() => healthy.distinct >= EVENTS, { timeoutMs: 60_000, what: `${label} deliveries` });
        const seconds = (performance.now() - t0) / 1000;
        figures[`${label}.healthySeconds`] = figure(seconds, 's');
        figures[`${label}.healthyP50`] = figure(percentile(healthy.latencies, 50), 'ms');
        figures[`${label}.healthyP99`] = figure(percentile(healthy.latencies, 99), 'ms');
        context.progress(`${label}: ${EVENTS} events to the healthy endpoint in ${seconds.toFixed(2)} s`);
        return seconds;
      };

      const alone = await startWebhookReceiver();
      receivers.push(alone);
      const first = await addWebhookEndpoint(client, runtime, alone.url, {
        timeoutSeconds: 10,
        maxAttempts: 3,
      });
      const aloneSeconds = await phase('alone', alone);
      await endpoints.setEnabled(BENCH_TENANT, first.id, false, 'bench: next phase', new Date());
      await runtime.waitForIdle({ timeoutMs: 30_000 }).catch(() => undefined);

      const healthy = await startWebhookReceiver();
      const hanging = await startWebhookReceiver({ hang: true });
      const slow = await startWebhookReceiver({ delayMs: SLOW_ANSWER_MS });
      receivers.push(healthy, hanging, slow);
      await addWebhookEndpoint(client, runtime, hanging.url, {
        timeoutSeconds: HANGING_TIMEOUT_SECONDS,
        maxAttempts: 3,
      });
      await addWebhookEndpoint(client, runtime, slow.url, { timeoutSeconds: 10, maxAttempts: 3 });
      await addWebhookEndpoint(client, runtime, healthy.url, { timeoutSeconds: 10, maxAttempts: 3 });
      const besideSeconds = await phase('beside', healthy);
      figures['beside.hangingRequests'] = figure(hanging.requests, 'requests');
      figures['beside.slowRequests'] = figure(slow.requests, 'requests');
      figures['beside.ratioToAlone'] = figure(besideSeconds / aloneSeconds, '×');
      notes.push(
        `${EVENTS} events at ${RATE}/s put on the webhook dispatch queue (bus-rule shape). Phase "alone": one endpoint answering 204 at once. Phase "beside": a fresh such endpoint, plus one that never answers (timeout ${HANGING_TIMEOUT_SECONDS} s) and one that answers 204 after ${SLOW_ANSWER_MS / 1000} s, all of the same tenant. Time = first event queued → the healthy endpoint has all ${EVENTS}. Circuit breaker and flow control at their defaults.`,
      );
      return { figures, notes };
    } finally {
      injector.destroy();
      client.destroy();
      await Promise.all(receivers.map((r) => r.stop()));
      await runtime.stop();
    }
  },
};
