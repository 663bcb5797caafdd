// e2e-target: offline-only — stops, kills and restarts the offline runtime and its DynamoDB Local
/**
 * Stopping and breaking the offline runtime the way people do, then counting: a Ctrl-C with
 * webhook retries pending, a Ctrl-C right after a burst of writes, DynamoDB Local's JVM killed
 * under a backlog, and a database older than its checkpoint file. Every event written is audited
 * and delivered afterwards (duplicates allowed, losses not).
 *
 * The burst size is `OUTBOX_RELAY_DURABILITY_EVENTS` (default 400; 3000 reproduces the original
 * report and takes several minutes here); the JVM-kill backlog is
 * `OUTBOX_RELAY_DURABILITY_JVM_EVENTS` (default 100; 300 measured in docs/reliability.md).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookEndpointsRepository } from '../../src/aws/webhookEndpointsRepository.js';
import { topology } from '../../src/contract/topology.js';
import { DEV_POLICY } from '../../src/core/addressPolicy.js';
import { createEndpoint } from '../../src/core/webhookEndpoint.js';
import { appendToOutbox } from '../../src/producer/index.js';
import { queueDepths } from '../faults/run.js';
import {
  createRuntimeProcess,
  type RuntimeEndpointsFile,
  type RuntimeProcess,
} from '../faults/runtimeProcess.js';
import { waitFor } from './helpers/index.js';

const BURST = Number(process.env.OUTBOX_RELAY_DURABILITY_EVENTS ?? 400);
const JVM_BACKLOG = Number(process.env.OUTBOX_RELAY_DURABILITY_JVM_EVENTS ?? 100);
const TENANT = 'tenant-d';

interface ToggleReceiver {
  readonly url: string;
  /** Event ids answered 200, with how many times. */
  readonly delivered: Map<string, number>;
  /** Requests answered with an error. */
  failed: number;
  status: number;
  close(): Promise<void>;
}

async function startToggleReceiver(status: number): Promise<ToggleReceiver> {
  const receiver = { delivered: new Map<string, number>(), failed: 0, status };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const id = typeof body === 'object' && body !== null ? Reflect.get(body, 'id') : undefined;
      if (receiver.status === 200 && typeof id === 'string') {
        receiver.delivered.set(id, (receiver.delivered.get(id) ?? 0) + 1);
      } else receiver.failed += 1;
      res.writeHead(receiver.status);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  });
}

function dbOf(file: RuntimeEndpointsFile): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: file.endpoints.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
  );
}

function envOf(file: RuntimeEndpointsFile, name: string): string {
  const value = file.env[name];
  if (!value) throw new Error(`no ${name} in the runtime's env`);
  return value;
}

async function auditedEventIds(file: RuntimeEndpointsFile): Promise<Set<string>> {
  const db = dbOf(file);
  const ids = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: envOf(file, topology.tables.audit.env), ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      if (item.kind === 'event' && typeof item.eventId === 'string') ids.add(item.eventId);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  db.destroy();
  return ids;
}

/** Waits (up to `timeoutMs`) until every one of `events` is audited; returns those that are not. */
async function unauditedAfterWaiting(
  file: RuntimeEndpointsFile,
  events: readonly string[],
  timeoutMs = 120_000,
): Promise<string[]> {
  let audited = new Set<string>();
  await waitFor(
    async () => {
      audited = await auditedEventIds(file);
      return events.every((id) => audited.has(id));
    },
    { timeoutMs, intervalMs: 1000 },
  ).catch(() => undefined);
  return events.filter((id) => !audited.has(id));
}

async function registerEndpoint(file: RuntimeEndpointsFile, url: string, maxAttempts: number): Promise<void> {
  const db = dbOf(file);
  const endpoint = createEndpoint(
    { url: `${url}/${TENANT}`, maxAttempts, timeoutSeconds: 5 },
    { tenantId: TENANT, now: new Date(), policy: DEV_POLICY, defaultMaxAttempts: maxAttempts },
  );
  await createWebhookEndpointsRepository({
    client: db,
    tableName: envOf(file, topology.tables.webhookEndpoints.env),
  }).create(endpoint);
  db.destroy();
}

/** Writes `ids` with a few writers in parallel; a write the runtime cannot take yet is retried (appends are idempotent). */
async function writeEvents(current: () => RuntimeEndpointsFile, ids: readonly string[]): Promise<void> {
  let next = 0;
  const writer = async () => {
    while (next < ids.length) {
      const eventId = ids[next++] ?? '';
      for (;;) {
        const file = current();
        const db = dbOf(file);
        try {
          await appendToOutbox(
            db,
            {
              eventId,
              tenantId: TENANT,
              channel: 'orders',
              type: 'order.updated',
              resourceId: eventId,
              data: { eventId },
              occurredAt: new Date().toISOString(),
            },
            { tableName: envOf(file, topology.tables.outbox.env) },
          );
          break;
        } catch {
          await new Promise((done) => setTimeout(done, 250));
        } finally {
          db.destroy();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
}

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);

describe('the offline runtime keeps what it accepted', () => {
  let dataDir = '';
  let runtime: RuntimeProcess | undefined;
  const receivers: ToggleReceiver[] = [];

  const start = (env: Record<string, string> = {}) => {
    dataDir ||= mkdtempSync(join(tmpdir(), 'outbox-relay-durable-'));
    runtime = createRuntimeProcess({
      dataDir,
      env: { OUTBOX_RELAY_ALLOW_PRIVATE_WEBHOOKS: 'true', ...env },
      logFile: join(dataDir, 'runtime.log'),
    });
    return runtime;
  };

  afterEach(async (context) => {
    await runtime?.stop();
    // Keep the runtime's log of a failed test for whoever investigates it.
    if (context.task.result?.state === 'fail' && dataDir) {
      cpSync(join(dataDir, 'runtime.log'), join(tmpdir(), `outbox-relay-durable-${Date.now()}.log`));
    }
    runtime = undefined;
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = '';
  });

  it('delivers all 50 webhooks whose retries were pending at a Ctrl-C, after the restart', async () => {
    const receiver = await startToggleReceiver(503);
    receivers.push(receiver);
    // Retries 10 s apart: the Ctrl-C comes while every retry is scheduled and none is due.
    // Breaker off: each of the 50 first attempts reaches the (failing) receiver.
    const env = { WEBHOOK_RETRY_SCHEDULE: '0,10,10,10,10,10', WEBHOOK_CIRCUIT_FAILURES: '0' };
    const first = start(env);
    let file = await first.start();
    await registerEndpoint(file, receiver.url, 6);
    const events = ids('pending', 50);
    await writeEvents(() => file, events);
    await waitFor(() => receiver.failed >= 50, { timeoutMs: 60_000 });

    expect(await first.interrupt()).toBe(0);
    receiver.status = 200;
    file = await start(env).start();

    await waitFor(() => events.every((id) => receiver.delivered.has(id)), { timeoutMs: 90_000 });
    expect(events.filter((id) => !receiver.delivered.has(id))).toEqual([]);
    const audited = await auditedEventIds(file);
    expect(events.filter((id) => !audited.has(id))).toEqual([]);
  });

  it(
    `audits and delivers all ${BURST} events written just before a Ctrl-C, after the restart`,
    async () => {
      const receiver = await startToggleReceiver(200);
      receivers.push(receiver);
      const first = start();
      let file = await first.start();
      await registerEndpoint(file, receiver.url, 5);
      const events = ids('burst', BURST);
      await writeEvents(() => file, events);

      expect(await first.interrupt()).toBe(0);
      file = await start().start();

      // A big burst drains slowly on a loaded machine: wait in proportion, then say where the rest is.
      await waitFor(() => events.every((id) => receiver.delivered.has(id)), {
        timeoutMs: Math.max(240_000, BURST * 150),
      }).catch(() => undefined);
      const unaudited = await unauditedAfterWaiting(file, events);
      const undelivered = events.filter((id) => !receiver.delivered.has(id));
      const queued = undelivered.length + unaudited.length > 0 ? (await queueDepths(file)).text : '';
      expect({
        unaudited,
        undelivered: undelivered.length,
        firstUndelivered: undelivered.slice(0, 5),
        queued,
      }).toEqual({
        unaudited: [],
        undelivered: 0,
        firstUndelivered: [],
        queued: '',
      });
    },
    Math.max(420_000, BURST * 300),
  );

  // The kill comes while deliveries are in flight: batches that meet the outage fail after it and
  // must be retried soon, not after the delivery queue's 7-minute visibility timeout.
  it(`loses nothing when the DynamoDB Local JVM is killed under a backlog of ${JVM_BACKLOG} webhooks, and /health says so meanwhile`, async () => {
    const receiver = await startToggleReceiver(200);
    receivers.push(receiver);
    const process_ = start();
    const file = await process_.start();
    await registerEndpoint(file, receiver.url, 5);
    const events = ids('jvm', JVM_BACKLOG);
    const writing = writeEvents(() => file, events);
    await waitFor(() => receiver.delivered.size >= Math.ceil(JVM_BACKLOG / 6), { timeoutMs: 60_000 });

    const jvm = process_.jvmPid();
    expect(jvm).toBeDefined();
    process.kill(jvm ?? 0, 'SIGKILL');
    await waitFor(
      async () => (await fetch(`${file.endpoints.control.replace(/\/control$/, '')}/health`)).status === 503,
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    await writing;
    await waitFor(() => events.every((id) => receiver.delivered.has(id)), {
      timeoutMs: 300_000,
    }).catch(() => undefined);
    const undelivered = events.filter((id) => !receiver.delivered.has(id));
    // Where the rest is (a batch hidden for the delivery queue's visibility timeout was the cause once).
    const queued = undelivered.length > 0 ? (await queueDepths(file)).text : '';
    expect({ undelivered, queued }).toEqual({ undelivered: [], queued: '' });
    const health = await fetch(`${file.endpoints.control.replace(/\/control$/, '')}/health`);
    expect(health.status).toBe(200);
    expect(process_.jvmPid()).not.toBe(jvm);
    expect(await unauditedAfterWaiting(file, events)).toEqual([]);
  }, 480_000);

  it('publishes every new row when the database is older than its checkpoint file', async () => {
    const first = start();
    let file = await first.start();
    await writeEvents(() => file, ids('old', 20));
    await waitFor(async () => (await auditedEventIds(file)).size >= 20, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    expect(await first.interrupt()).toBe(0);
    const backup = join(dataDir, 'backup');
    cpSync(join(dataDir, 'dynamodb'), backup, { recursive: true });

    const second = start();
    file = await second.start();
    await writeEvents(() => file, ids('newer', 30));
    await waitFor(async () => (await auditedEventIds(file)).size >= 50, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    expect(await second.interrupt()).toBe(0);
    // The database goes back to the copy; the checkpoints stay the newer ones.
    const checkpoints = join(dataDir, 'dynamodb', 'checkpoints.json');
    cpSync(checkpoints, join(dataDir, 'newer-checkpoints.json'));
    rmSync(join(dataDir, 'dynamodb'), { recursive: true, force: true });
    cpSync(backup, join(dataDir, 'dynamodb'), { recursive: true });
    cpSync(join(dataDir, 'newer-checkpoints.json'), checkpoints);

    file = await start().start();
    const fresh = ids('fresh', 40);
    await writeEvents(() => file, fresh);
    expect(await unauditedAfterWaiting(file, fresh, 90_000)).toEqual([]);
  }, 300_000);
});
