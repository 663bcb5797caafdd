// e2e-target: offline-only — needs receivers on 127.0.0.1, which a deployed stack refuses by its production address policy
/**
 * Webhooks end to end on the offline runtime: outbox → stream → publisher → bus → dispatch queue
 * → dispatcher → delivery queue → delivery → local receivers on 127.0.0.1 that verify every
 * request with the `standardwebhooks` library (an independent implementation of the spec).
 * A fast retry schedule (1 s steps) stands in for the production one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { getDocumentClient, getSqsClient } from '../../src/aws/clients.js';
import { getWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { run as webhooksCli } from '../../src/cli/commands/webhooks.js';
import { topology } from '../../src/contract/topology.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { auditAttemptItemSchema, auditEventPk } from '../../src/core/auditRecord.js';
import { keyPrefix } from '../../src/core/keyCodec.js';
import {
  createEndpoint,
  type EndpointSettingsInput,
  type WebhookEndpoint,
} from '../../src/core/webhookEndpoint.js';
import { deadLetterSchema } from '../../src/core/webhookMessages.js';
import { appendToOutbox, newOutboxEvent } from '../../src/producer/index.js';
import { type ReceivedRequest, startReceiver, type TestReceiver } from '../helpers/webhookReceiver.js';

const RETRY_SCHEDULE = '0,1,1,1,1';

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Verifies a request as a receiver would; throws if the signature does not verify. */
function verify(secret: string, request: ReceivedRequest): { id: string } {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
  const payload = new Webhook(secret).verify(request.body, headers);
  if (
    typeof payload !== 'object' ||
    payload === null ||
    !('id' in payload) ||
    typeof payload.id !== 'string'
  ) {
    throw new Error('payload without an id');
  }
  return { id: payload.id };
}

describe('webhooks on the offline runtime', () => {
  let runtime: Runtime;
  let cliDir: string;
  const receivers: TestReceiver[] = [];
  let flakyEventId: string | undefined;

  async function receiver(...args: Parameters<typeof startReceiver>): Promise<TestReceiver> {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  }

  async function register(tenantId: string, settings: EndpointSettingsInput): Promise<WebhookEndpoint> {
    const endpoint = createEndpoint(settings, {
      tenantId,
      now: new Date(),
      policy: DEV_POLICY,
      defaultMaxAttempts: 5,
    });
    await getWebhookEndpointsRepository().create(endpoint);
    return endpoint;
  }

  async function publish(tenantId: string, count: number, type = 'order.created'): Promise<string[]> {
    const tableName = runtime.env[topology.tables.outbox.env] ?? '';
    const start = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const event = newOutboxEvent(
        { tenantId, channel: 'orders', type, resourceId: `order-${i}`, data: { n: i } },
        new Date(start + i),
      );
      await appendToOutbox(getDocumentClient(), event, { tableName });
      ids.push(event.eventId);
    }
    return ids;
  }

  async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
    const lines: string[] = [];
    const original = console.log;
    console.log = (...parts: unknown[]) => lines.push(parts.map(String).join(' '));
    try {
      const code = await webhooksCli([...args, '--json']);
      return { code, stdout: lines.join('\n') };
    } finally {
      console.log = original;
    }
  }

  async function dlqLetters() {
    const out = await getSqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.env[topology.queues.webhookDlq.env],
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    return (out.Messages ?? []).map((m) => deadLetterSchema.parse(JSON.parse(m.Body ?? '')));
  }

  beforeAll(async () => {
    runtime = await startRuntime({
      quiet: true,
      // No WebSocket clients here: fan-out is not part of what these tests count.
      disabledMappings: ['fanout'],
      env: { WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE },
    });
    // The CLI targets the runtime through the same endpoints file `npm start` writes.
    cliDir = await mkdtemp(join(tmpdir(), 'outbox-relay-webhooks-'));
    await writeFile(
      join(cliDir, 'endpoints.json'),
      JSON.stringify({ region: runtime.env.AWS_REGION, env: runtime.env }),
    );
    process.env.OUTBOX_RELAY_LOCAL_DIR = cliDir;
  });

  afterAll(async () => {
    for (const r of receivers) await r.close();
    await runtime?.stop();
    if (cliDir) await rm(cliDir, { recursive: true, force: true });
    delete process.env.OUTBOX_RELAY_LOCAL_DIR;
  });

  it('delivers each of 300 events exactly once to each of two endpoints, every request verified', async () => {
    const [first, second] = [await receiver(), await receiver()];
    const endpoints = [
      await register('tenant-wh-volume', { url: first.url }),
      await register('tenant-wh-volume', { url: second.url, content: 'summary' }),
    ];
    const ids = await publish('tenant-wh-volume', 300);

    await until(
      () => first.requests.length >= 300 && second.requests.length >= 300,
      '300 requests per endpoint',
    );
    await runtime.waitForIdle({ timeoutMs: 120_000 });

    for (const [index, target] of [first, second].entries()) {
      const secret = endpoints[index]?.secrets[0]?.secret ?? '';
      const received = target.requests.map((request) => verify(secret, request).id);
      expect(received).toHaveLength(300);
      expect(new Set(received)).toEqual(new Set(ids));
      expect(target.requests.every((r) => r.headers['webhook-id'] === JSON.parse(r.body).id)).toBe(true);
    }
    expect(JSON.parse(second.requests[0]?.body ?? '{}')).not.toHaveProperty('data');
    expect(JSON.parse(first.requests[0]?.body ?? '{}')).toHaveProperty('data');
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx, and audits 4 attempts', async () => {
    const flaky = await receiver((_request, index) => ({ status: index < 3 ? 500 : 204 }));
    const endpoint = await register('tenant-wh-flaky', { url: flaky.url });
    const [eventId] = await publish('tenant-wh-flaky', 1);

    await until(() => flaky.requests.length >= 4, 'the fourth attempt');
    await runtime.waitForIdle({ timeoutMs: 60_000 });

    expect(flaky.requests).toHaveLength(4);
    const secret = endpoint.secrets[0]?.secret ?? '';
    expect(flaky.requests.map((r) => verify(secret, r).id)).toEqual([eventId, eventId, eventId, eventId]);
    expect(new Set(flaky.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));

    // Read straight from the audit table, so this checks what the delivery path recorded.
    const items = await getDocumentClient().send(
      new QueryCommand({
        TableName: runtime.env[topology.tables.audit.env],
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': auditEventPk('tenant-wh-flaky', eventId ?? ''),
          ':prefix': keyPrefix(['ATTEMPT', 'webhook']),
        },
      }),
    );
    const webhook = (items.Items ?? [])
      .map((item) => auditAttemptItemSchema.parse(item))
      .sort((a, b) => a.attempt - b.attempt);
    expect(webhook.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'failed', 500],
      [4, 'delivered', 204],
    ]);
    expect(webhook.every((a) => a.target === endpoint.id)).toBe(true);
    expect(webhook.slice(0, 3).every((a) => a.nextAttemptAt !== undefined)).toBe(true);
    flakyEventId = eventId;
  });

  it('shows that history with `webhooks attempts <event-id>`', async () => {
    expect(flakyEventId).toBeDefined();
    const shown = await cli(['attempts', flakyEventId ?? '']);
    expect(shown.code).toBe(0);
    const parsed: { attempts: { attempt: number; outcome: string }[] } = JSON.parse(shown.stdout);
    expect(parsed.attempts.map((a) => a.outcome).sort()).toEqual(['delivered', 'failed', 'failed', 'failed']);
  });

  it('parks an always-failing delivery in the DLQ with its reason, and redrive delivers it once fixed', async () => {
    let healthy = false;
    const broken = await receiver(() => ({ status: healthy ? 200 : 503 }));
    const added = await cli([
      'add',
      '--tenant',
      'tenant-wh-dead',
      '--url',
      broken.url,
      '--max-attempts',
      '3',
    ]);
    expect(added.code).toBe(0);
    const endpoint: { id: string; secrets: { secret: string }[] } = JSON.parse(added.stdout);
    const [eventId] = await publish('tenant-wh-dead', 1);

    await until(async () => (await dlqLetters()).some((l) => l.eventId === eventId), 'the dead letter');
    expect(broken.requests).toHaveLength(3);
    const letter = (await dlqLetters()).find((l) => l.eventId === eventId);
    expect(letter?.endpointId).toBe(endpoint.id);
    expect(letter?.deadLetter).toMatchObject({ code: 'attempts_exhausted', attempts: 3, lastStatus: 503 });
    expect(letter?.deadLetter.reason).toBe('gave up after 3 attempts; last: HTTP 503');

    healthy = true;
    const redriven = await cli(['redrive', '--endpoint', endpoint.id]);
    expect(redriven.code).toBe(0);
    expect(JSON.parse(redriven.stdout)).toMatchObject({ redriven: 1 });

    await until(() => broken.requests.length >= 4, 'the redriven delivery');
    await runtime.waitForIdle({ timeoutMs: 60_000 });
    expect(broken.requests).toHaveLength(4);
    expect(verify(endpoint.secrets[0]?.secret ?? '', broken.requests[3] as ReceivedRequest).id).toBe(eventId);
    expect((await dlqLetters()).some((l) => l.eventId === eventId)).toBe(false);
  });

  it('does not let a slow (timing-out) endpoint delay another endpoint’s deliveries', async () => {
    // The breaker off, so every delivery to the hanging endpoint is attempted (one at a time: it is slow).
    process.env.WEBHOOK_CIRCUIT_FAILURES = '0';
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    await register('tenant-wh-slow', { url: slow.url, timeoutSeconds: 2, maxAttempts: 1 });
    await register('tenant-wh-slow', { url: fast.url });
    const count = 20;
    await publish('tenant-wh-slow', count);

    await until(() => fast.requests.length >= count, 'every event at the fast endpoint');
    // Measured when the fast endpoint has everything: the slow endpoint's attempts are far from done
    // (it gets one request at a time, 2 s timeout each).
    const slowAttemptsWhenFastDone = slow.requests.length;
    expect(slowAttemptsWhenFastDone).toBeLessThan(count);

    await until(() => slow.requests.length >= count, 'the attempt of every slow delivery', 180_000);
    delete process.env.WEBHOOK_CIRCUIT_FAILURES;
    await runtime.waitForIdle({ timeoutMs: 120_000 });
    expect(fast.requests).toHaveLength(count);
    const parked = [];
    for (let i = 0; i < 20; i += 1) parked.push(...(await dlqLetters()));
    expect(
      parked.some((l) => l.tenantId === 'tenant-wh-slow' && /timed out after 2 s/.test(l.deadLetter.reason)),
    ).toBe(true);
  });

  // Last in the file: its deferred messages stay delayed for ten minutes, so no later waitForIdle.
  it('with the circuit breaker on, stops sending to a hanging endpoint and keeps its deliveries queued', async () => {
    process.env.WEBHOOK_CIRCUIT_FAILURES = '3';
    process.env.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS = '600';
    try {
      const hanging = await receiver(() => 'hang');
      const fast = await receiver();
      await register('tenant-wh-circuit', { url: hanging.url, timeoutSeconds: 1, maxAttempts: 5 });
      await register('tenant-wh-circuit', { url: fast.url });
      const count = 60;
      await publish('tenant-wh-circuit', count);

      await until(() => fast.requests.length >= count, 'every event at the fast endpoint');
      // Every delivery to the hanging endpoint ends up deferred (delayed), none lost, none dead-lettered.
      // (A deferral is a new delayed message plus the received one, deleted when its invocation
      // ends, so wait for the queue to settle with exactly one message per delivery, all delayed.)
      await until(
        () => {
          const counts = runtime.queues.counts('webhookDeliveryQueue');
          return counts.delayed === count && counts.visible + counts.inFlight === 0;
        },
        'every hanging-endpoint delivery deferred',
        60_000,
      );
      // Only the first wave (before the streak reached 3) and its 1 s retries were sent.
      expect(hanging.requests.length).toBeLessThan(count / 2);
      expect(fast.requests).toHaveLength(count);
      expect((await dlqLetters()).filter((l) => l.tenantId === 'tenant-wh-circuit')).toEqual([]);
    } finally {
      delete process.env.WEBHOOK_CIRCUIT_FAILURES;
      delete process.env.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS;
    }
  });
});
